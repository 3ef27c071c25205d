"""File handlers (to be written)."""


def list_files(request):
    raise NotImplementedError


def download_file(request):
    raise NotImplementedError


def delete_file(request):
    raise NotImplementedError


def create_link(request):
    raise NotImplementedError


def download_by_link(request):
    raise NotImplementedError
