"""Sharing: links for people without an account — shares out, upload requests in."""
