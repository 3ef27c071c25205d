"""Streaming multipart uploads (to be written)."""


def upload_files(request):
    raise NotImplementedError


def upload_binary(request):
    raise NotImplementedError
