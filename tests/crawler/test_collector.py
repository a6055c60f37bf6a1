"""crawler.collector.frozen_while: objects alive at the start leave the collector's passes until the block
ends, and come back whatever happens (a fleet auditing many sites in one process frees each site's facts)."""

from __future__ import annotations

import gc

import pytest

from crawler.collector import frozen_while


def test_frozen_while_freezes_inside_and_unfreezes_after_even_on_error() -> None:
    gc.unfreeze()
    facts = [[i] for i in range(1000)]
    with frozen_while():
        assert gc.get_freeze_count() >= len(facts)
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen_while():
        raise RuntimeError("an audit failed")
    assert gc.get_freeze_count() == 0
