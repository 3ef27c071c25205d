"""HTTP plumbing: request and response objects, the router, the middleware, static pages.

Nothing here knows about accounts or files; everything else builds on it.
"""
