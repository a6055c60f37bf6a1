"""Derived data computed from the facts and shared by the checks and crawler/'s gatherers.

Neither facts (what the crawl recorded) nor judgements (findings): the identity of a link target
(`urls.url_key`, which the spider also de-duplicates on), the site's search forms (`search_forms`,
which the search probe submits and the retrieval check judges), the audited https hosts
(`hosts.https_hosts`, which the transport probe asks and the transport check judges), text folding
(`text.norm`, `text.contains_any`: the checks' keyword matching and the accessibility sampling) and
the keyword lists of the data files (`keywords`: site map, 主動公開資訊 names). Kept here so
crawler/ depends on checks/ only for the facts schema and this layer (tests/test_layout.py).
"""
