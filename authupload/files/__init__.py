"""What people store: the storage folder, streaming multipart and tus uploads, downloads.

Uses ``web`` for HTTP and ``accounts`` for token purposes.
"""
