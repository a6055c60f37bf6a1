"""Pure audits over stored site facts. Every module in this package that defines a Check subclass
is discovered automatically (see checks.audit.load_checks): adding a rule never edits a switch."""
