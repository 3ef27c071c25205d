"""Previews in a real Chromium: an HTML file declared as an image, as HTML or as a
PDF and opened through its preview link never runs script with the site's origin."""

import pytest
import requests

pytestmark = pytest.mark.browser

# If this ran with the site's origin it would change the title, read the stored
# token and call home: the test looks for all three.
HOSTILE_PAGE = b"""<!doctype html><title>plain</title>
<script>
document.title = "pwned";
localStorage.setItem("pwned", localStorage.getItem("token") || "no token");
fetch("/api/health?pwned=1");
</script><p>hello</p>"""


@pytest.mark.parametrize("declared", ["image/png", "text/html", "application/pdf"])
def test_an_html_file_shown_inline_runs_no_script_in_the_site_origin(page, server, declared):
    _, token = server.account()
    answer = server.api("POST", "/api/files", token, files={"file": ("page.html", HOSTILE_PAGE, declared)})
    file_id = answer.json()["data"]["files"][0]["id"]
    link = server.api("POST", f"/api/files/{file_id}/link", token, json={"inline": True}).json()["data"]["url"]
    # The site's own page first, holding a token in its origin's storage, as the workspace would.
    page.goto(f"{server.url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    calls_home = []
    page.on("request", lambda request: calls_home.append(request.url) if "pwned" in request.url else None)

    # What the server sends (Chromium hands a PDF to its viewer and reports the headers without CSP).
    sent = requests.get(f"{server.url}{link}", timeout=10).headers
    assert (sent["Content-Security-Policy"], sent["X-Content-Type-Options"]) == ("sandbox", "nosniff")
    try:
        page.goto(f"{server.url}{link}")
        page.wait_for_timeout(300)  # time for a script to run, if one could
        assert page.evaluate("document.title") != "pwned"
    except Exception as error:  # a viewer that refuses a sandboxed PDF aborts the navigation: nothing ran either
        if "net::ERR_ABORTED" not in str(error) and "ERR_BLOCKED" not in str(error):
            raise
    page.goto(f"{server.url}/login.html")
    assert page.evaluate("localStorage.getItem('pwned')") is None
    assert calls_home == []
