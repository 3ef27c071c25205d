"""tus 1.0 resumable uploads (to be written)."""


def remove_expired_uploads(database, storage, config):
    pass


def describe_server(request):
    raise NotImplementedError


def create_upload(request):
    raise NotImplementedError


def upload_offset(request):
    raise NotImplementedError


def append_chunk(request):
    raise NotImplementedError


def cancel_upload(request):
    raise NotImplementedError
