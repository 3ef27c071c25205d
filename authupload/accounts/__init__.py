"""Who is asking: password hashing, tokens, the login throttle and the account handlers.

Uses ``web`` for HTTP; knows nothing of files.
"""
