"""Pure domain: rules, GS1 parsing and the error tree. Imports no framework, ORM or driver."""
