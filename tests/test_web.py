"""`ceasefire serve` without a browser: Starlette's TestClient against the app.

What a page shows is compared with what the layers below give for the same input (the
engine's pause, the loader's line and column), never with numbers written out here.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape
from starlette.testclient import TestClient

from ceasefire.cli import main
from ceasefire.engine import run
from ceasefire.outputs import CHART_LIBRARIES
from ceasefire.scenario import ScenarioError, load_scenario
from ceasefire.web import ServeConfig, create_app
from ceasefire.web._app import HTMX

from conftest import NOV2023, ROOT

SCENARIO = "/s/bundled/gaza-2023-11-truce.yaml"
RATIO = ("agreement", "exchange", "ratios", "women_children")
RATIO_FIELD = "t.agreement.exchange.ratios.women_children"


def client_for(config: ServeConfig, base_url: str = "http://127.0.0.1:8000") -> TestClient:
    return TestClient(create_app(config), base_url=base_url)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with client_for(ServeConfig()) as c:
        yield c


def escaped(text: str) -> str:
    """Text as the pages show it (Jinja2's autoescaping)."""
    return str(escape(text))


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def cell(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert match is not None, testid
    return match.group(1).strip()


def test_the_index_lists_the_bundled_scenarios(client: TestClient) -> None:
    page = client.get("/").text
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert f'href="/s/bundled/{path.name}"' in page
        assert escaped(load_scenario(path).name) in page


def test_a_changed_ratio_reruns_the_design(client: TestClient) -> None:
    page = client.get(SCENARIO).text
    nov = load_scenario(NOV2023)
    assert cell(page, "pause-days") == str(run(nov, seed=0).summary.pause_days)
    response = client.post(
        f"{SCENARIO}/run",
        data={"csrf_token": csrf_of(page), RATIO_FIELD: "1", "seed": "0", "n": "200"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    edited = run(load_scenario(NOV2023, {RATIO: 1}), seed=0).summary.pause_days
    assert edited < run(nov, seed=0).summary.pause_days  # the holder declines to extend
    assert cell(response.text, "pause-days") == str(edited)
    assert response.text.lstrip().startswith('<section id="results"')  # a fragment
    assert "Changed from the file" in response.text
    assert f"{RATIO_FIELD}=1" in response.headers["hx-push-url"]


def test_a_design_can_be_opened_from_its_address(client: TestClient) -> None:
    page = client.get(SCENARIO, params={RATIO_FIELD: "1"}).text
    edited = run(load_scenario(NOV2023, {RATIO: 1}), seed=0).summary.pause_days
    assert cell(page, "pause-days") == str(edited)
    assert 'value="1"' in page


def test_a_refused_value_is_shown_at_its_line_and_column(client: TestClient) -> None:
    page = client.get(SCENARIO).text
    response = client.post(f"{SCENARIO}/run", data={"csrf_token": csrf_of(page), RATIO_FIELD: "-1"})
    with pytest.raises(ScenarioError) as refused:
        load_scenario(NOV2023, {RATIO: -1})
    problem = refused.value.problems[0]
    assert problem.line is not None and problem.column is not None
    where = f"gaza-2023-11-truce.yaml:{problem.line}:{problem.column}"
    assert where in response.text
    assert escaped(problem.message) in response.text
    assert 'data-testid="pause-days"' not in response.text


def test_a_refused_file_is_shown_with_its_problems(tmp_path: Path) -> None:
    text = NOV2023.read_text(encoding="utf-8").replace(
        "      women_children: 3", "      women_childern: 3"
    )
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path / "bad.yaml")
    with client_for(ServeConfig([tmp_path], bundled=False)) as c:
        count = len(refused.value.problems)
        assert f"refused: {count} problem{'s' if count != 1 else ''}<" in c.get("/").text
        page = c.get("/s/dir-1/bad.yaml").text
    for p in refused.value.problems:
        assert f"bad.yaml:{p.line}:{p.column}" in page
        assert f'<li id="L{p.line}" class="bad">' in page


def test_text_from_a_scenario_is_escaped(tmp_path: Path) -> None:
    text = NOV2023.read_text(encoding="utf-8").replace(
        'name: "Gaza truce, November 2023"', 'name: "<script>alert(1)</script> & <b>x</b>"'
    )
    (tmp_path / "markup.yaml").write_text(text, encoding="utf-8")
    with client_for(ServeConfig([tmp_path], bundled=False)) as c:
        for url in ("/", "/s/dir-1/markup.yaml", "/s/dir-1/markup.yaml/replay"):
            page = c.get(url).text
            assert "<script>alert" not in page and "<b>x</b>" not in page
            assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in page


def test_posts_without_the_csrf_token_are_refused(client: TestClient) -> None:
    url = f"{SCENARIO}/run"
    token = csrf_of(client.get(SCENARIO).text)
    assert client.post(url, data={RATIO_FIELD: "1"}).status_code == 403
    assert client.post(url, data={"csrf_token": "x" + token}).status_code == 403
    other = client.post(
        url, data={"csrf_token": token}, headers={"Origin": "http://attacker.example"}
    )
    assert other.status_code == 403
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    assert client.post(url, headers={"X-CSRF-Token": token}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/s/bundled/..%2Fpyproject.toml",
        "/s/bundled/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/s/bundled/../../etc/passwd",
        "/s/bundled/.hidden.yaml",
        "/s/bundled/gaza-2023-11-truce.yaml%00",
        "/s/elsewhere/gaza-2023-11-truce.yaml",
        "/s/..%2Ftests/test_web.py",
        "/s/dir-1/gaza-2023-11-truce.yaml",
        "/static/../_app.py",
        "/static/%2E%2E/_app.py",
    ],
)
def test_nothing_outside_the_scenario_folders_is_reachable(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


def test_links_and_other_files_in_a_folder_are_not_served(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(NOV2023.read_text(encoding="utf-8"), encoding="utf-8")
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside / "secret.yaml")
    (folder / "notes.txt").write_text("not a scenario", encoding="utf-8")
    with client_for(ServeConfig([folder], bundled=False)) as c:
        assert "link.yaml" not in c.get("/").text
        assert c.get("/s/dir-1/link.yaml").status_code == 404
        assert c.get("/s/dir-1/notes.txt").status_code == 404
        assert c.get("/s/dir-1/..%2Foutside%2Fsecret.yaml").status_code == 404


def test_a_token_is_required_off_loopback() -> None:
    with pytest.raises(ValueError, match="token"):
        create_app(ServeConfig(host="0.0.0.0"))
    config = ServeConfig(host="0.0.0.0", token="s3cret-token")
    with client_for(config, "http://192.0.2.1:8000") as c:
        assert c.get("/").status_code == 401
        assert c.get("/?token=wrong").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        first = c.get("/?token=s3cret-token", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "httponly" in first.headers["set-cookie"].lower()
        assert c.get("/").status_code == 200  # the cookie from now on


def test_only_loopback_host_names_are_answered_on_loopback() -> None:
    """A page on another site cannot reach the app through a rebound DNS name."""
    with client_for(ServeConfig(), "http://attacker.example:8000") as c:
        assert c.get("/").status_code == 400
    with client_for(ServeConfig(), "http://localhost:8000") as c:
        assert c.get("/").status_code == 200
    with client_for(ServeConfig(host="::1"), "http://[::1]:8000") as c:
        assert c.get("/").status_code == 200
    with client_for(ServeConfig(), "http://127.0.0.1.attacker.example:8000") as c:
        assert c.get("/").status_code == 400


def test_request_bodies_over_the_limit_are_refused() -> None:
    with client_for(ServeConfig(body_limit=1024)) as c:
        token = csrf_of(c.get(SCENARIO).text)
        big = {"csrf_token": token, "t.padding": "x" * 2000}
        assert c.post(f"{SCENARIO}/run", data=big).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield f"csrf_token={token}&".encode()
            for _ in range(10):
                yield b"x=" + b"y" * 300 + b"&"

        streamed = c.post(
            f"{SCENARIO}/run",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert streamed.status_code == 413
        small = c.post(f"{SCENARIO}/run", data={"csrf_token": token})
        assert small.status_code == 200


def test_pages_allow_only_the_apps_own_scripts(client: TestClient) -> None:
    response = client.get(SCENARIO)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    scripts = re.findall(r'<script src="([^"]+)"', response.text)
    assert f"/static/{HTMX}" in scripts
    # The chart libraries are the reports' vendored files, served by the app from the package.
    assert [f"/charts/{name}" for name in CHART_LIBRARIES] == [
        s for s in scripts if s.startswith("/charts/")
    ]
    for src in scripts:
        assert src.startswith(("/static/", "/charts/"))
        assert client.get(src).status_code == 200
    for name in CHART_LIBRARIES:
        served = client.get(f"/charts/{name}").content
        assert served == (ROOT / "src/ceasefire/outputs/vendor" / name).read_bytes()
    assert "http://" not in response.text.replace("http://127.0.0.1", "")
    vendor = ROOT / "src" / "ceasefire" / "web" / "static" / "vendor"
    assert (vendor / HTMX.split("/")[-1].replace(".min.js", ".LICENSE")).is_file()


def test_replay_steps_through_the_days(client: TestClient) -> None:
    episode = run(load_scenario(NOV2023), seed=0)
    page = client.get(f"{SCENARIO}/replay", params={"day": "5"}).text
    entries = [e for e in episode.transcript if e.day == 5]
    assert entries
    assert 'id="day-heading">Day 5 of ' in page
    assert entries[0].date in page
    for e in entries:
        assert escaped(e.text) in page
    assert re.search(r'rel="prev" data-key="ArrowLeft" href="\?seed=0&amp;day=4"', page)
    assert re.search(r'rel="next" data-key="ArrowRight" href="\?seed=0&amp;day=6"', page)
    last = client.get(f"{SCENARIO}/replay", params={"day": "9999"}).text
    assert "last day" in last and 'rel="next"' not in last


def test_the_replay_of_a_design_is_that_design(client: TestClient) -> None:
    edited = run(load_scenario(NOV2023, {RATIO: 1}), seed=0)
    day = max(e.day for e in edited.transcript)
    page = client.get(f"{SCENARIO}/replay", params={RATIO_FIELD: "1", "day": str(day)}).text
    assert "of your design" in page
    for e in (e for e in edited.transcript if e.day == day):
        assert escaped(e.text) in page


def test_serve_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--scenarios", str(tmp_path / "none")])
    assert result.exit_code == 2 and "not a folder" in result.output
    result = runner.invoke(main, ["serve", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "monitor init" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and f"127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_the_wheel_ships_the_templates_scripts_licence_and_scenarios(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    web = ROOT / "src" / "ceasefire" / "web"
    for sub in ("templates", "static"):
        for path in (web / sub).rglob("*"):
            if path.is_file():
                assert f"ceasefire/web/{path.relative_to(web).as_posix()}" in names
    assert f"ceasefire/web/static/{HTMX}" in names
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert f"ceasefire/scenarios/{path.name}" in names


COMPILING_PROBE = """
import os, sys, time
from starlette.testclient import TestClient
from ceasefire.web import ServeConfig, create_app
client = TestClient(create_app(ServeConfig()), base_url="http://127.0.0.1")
start = time.monotonic()
page = client.get("/s/bundled/gaza-2023-11-truce.yaml").text
print(round(time.monotonic() - start, 3))
print("Compiling the ensemble engine" in page, 'data-testid="pause-days"' in page,
      'hx-trigger="every 3s"' in page, 'data-testid="ensemble-pause"' in page)
sys.stdout.flush()
os._exit(0)  # leave the compilation started in the background unfinished
"""


def test_an_uncompiled_ensemble_engine_is_announced_not_waited_for(tmp_path: Path) -> None:
    """With an empty kernel cache the page comes back at once with the single run and a
    notice that asks again every few seconds, while the kernel compiles in the background."""
    result = subprocess.run(
        [sys.executable, "-c", COMPILING_PROBE],
        env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    elapsed, flags = result.stdout.splitlines()[-2:]
    assert flags == "True True True False"
    assert float(elapsed) < 30  # a compilation takes minutes


def test_a_pinned_design_is_compared_with_the_next(client: TestClient) -> None:
    page = client.get(SCENARIO, params={RATIO_FIELD: "1"}).text
    pin = re.search(r'href="(/s/bundled/[^"?]+\?[^"]+)"[^>]*>Pin this design', page)
    assert pin is not None
    pinned_url = html.unescape(pin.group(1))
    assert "a.agreement.exchange.ratios.women_children=1" in pinned_url
    with_pin = client.get(pinned_url).text
    assert "a.agreement.exchange.ratios.women_children" in with_pin  # kept in the form
    token = csrf_of(with_pin)
    form = {"csrf_token": token, "a.agreement.exchange.ratios.women_children": "1"}
    response = client.post(f"{SCENARIO}/run", data={**form, RATIO_FIELD: "2"})
    a = run(load_scenario(NOV2023, {RATIO: 1}), seed=0).summary
    b = run(load_scenario(NOV2023, {RATIO: 2}), seed=0).summary
    cells = re.search(
        r"<th scope=\"row\">Pause days</th>\s*<td>(\d+)</td><td data-testid=\"pause-days\">(\d+)<",
        response.text,
    )
    assert cells is not None and cells.groups() == (str(a.pause_days), str(b.pause_days))
    assert "pinned design</th>" in response.text
    differences = re.search(r'data-testid="differences">(.*?)</ul>', response.text, re.S)
    assert differences is not None
    assert "<s>1</s> → <strong>2</strong>" in differences.group(1)
    assert differences.group(1).count("<li>") == 1
