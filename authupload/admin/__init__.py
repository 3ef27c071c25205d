"""Operators: the admin API and the account management it shares with the command line."""
