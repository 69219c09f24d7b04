"""The web app: Starlette routes, Jinja2 templates (autoescaped), htmx from the app itself.

Pages: the list of reachable scenarios; a scenario (its terms in a form, the single run
and a small ensemble of the design against the file's, its problems at line:column, its
source); the replay of a design's single run, day by day.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ceasefire.outputs import CHART_LIBRARIES
from ceasefire.scenario import Problem, Scenario, ScenarioError, load_scenario

from . import _monitor
from ._library import Library, Loc, Term, bundled_folder, changes_from, scenario_terms
from ._results import MAX_EPISODES, Ensembles, days, histograms, pause_days_spec, single_run
from ._security import (
    CSRF_FIELD,
    AccessToken,
    BodyLimit,
    Headers,
    LoopbackHosts,
    check_csrf,
    is_loopback,
    new_token,
)

HERE = Path(__file__).parent
HTMX = "vendor/htmx-2.0.11.min.js"
BODY_LIMIT = 64 * 1024
DEFAULT_EPISODES = 2_000
MAX_SOURCE_LINES = 5_000
DONE = re.compile(r"^(add|correct|retract): entry \d{1,12} \([A-Za-z0-9._:-]{1,64}\)$")


@dataclass
class ServeConfig:
    """What the app may reach and how it is protected."""

    scenario_dirs: list[Path] = field(default_factory=list)
    db: Path | None = None
    host: str = "127.0.0.1"
    token: str | None = None
    body_limit: int = BODY_LIMIT
    bundled: bool = True


def _int(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, lo), hi)


def _kept(form: dict[str, str], **extra: object) -> dict[str, str]:
    """The fields that make a design (terms, seed, episodes), for links between pages."""
    keep = {k: v for k, v in form.items() if k.startswith(("t.", "a.")) or k in ("seed", "n")}
    keep.update({k: str(v) for k, v in extra.items()})
    return {k: v for k, v in keep.items() if len(k) <= 200 and len(v) <= 40}


def number(value: float) -> str:
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def value_label(key: str, names: dict[str, str]) -> str:
    """A value's key as words: ``israel`` -> ``Israel``, ``hamas_aspiration`` ->
    ``Hamas aspiration``."""
    if key in names:
        return names[key]
    for pid in sorted(names, key=len, reverse=True):
        if key.startswith(pid + "_"):
            return f"{names[pid]} {key[len(pid) + 1 :].replace('_', ' ')}"
    return key.replace("_", " ")


def _source(path: Path, problems: list[Problem]) -> list[tuple[int, str, bool]]:
    try:
        text = path.read_bytes()[: 2 * 1024 * 1024].decode("utf-8", errors="replace")
    except OSError:
        return []
    marked = {p.line for p in problems if p.line is not None}
    lines = text.splitlines()[:MAX_SOURCE_LINES]
    return [(i, line, i in marked) for i, line in enumerate(lines, start=1)]


class App:
    """The pages and their state: the library, the ensembles, the CSRF token."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.library = Library(bundled_folder() if config.bundled else None, config.scenario_dirs)
        self.ensembles = Ensembles()
        self.csrf = new_token()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        if config.db is not None:
            threading.Thread(target=_monitor.warm_up, name="ceasefire-warm", daemon=True).start()
        self.env.filters["q"] = lambda s: quote(str(s), safe="")
        self.env.filters["label"] = value_label
        self.env.filters["number"] = number

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.update(csrf=self.csrf, csrf_field=CSRF_FIELD, htmx=HTMX, charts=CHART_LIBRARIES)
        return HTMLResponse(self.env.get_template(template).render(**context), status)

    def _path(self, request: Request) -> tuple[str, str, Path]:
        key, name = request.path_params["key"], request.path_params["name"]
        path = self.library.resolve(key, name)
        if path is None:
            raise HTTPException(404, f"No scenario {name!r} in the folders this app serves.")
        return key, name, path

    # -- pages -------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        def listing() -> list[dict[str, Any]]:
            out = []
            for folder in self.library.folders.values():
                files = []
                for name in self.library.files(folder):
                    try:
                        title, problems = load_scenario(folder.path / name).name, 0
                    except ScenarioError as error:
                        title, problems = "", len(error.problems)
                    files.append({"name": name, "title": title, "problems": problems})
                out.append({"folder": folder, "files": files})
            return out

        folders = await run_in_threadpool(listing)
        return self.render("index.html", folders=folders, db=self.config.db)

    async def scenario(self, request: Request) -> Response:
        key, name, path = self._path(request)
        form = dict(request.query_params)
        context = await run_in_threadpool(self.design, path, form)
        return self.render("scenario.html", key=key, name=name, **context)

    async def run_design(self, request: Request) -> Response:
        key, name, path = self._path(request)
        async with request.form(max_files=0, max_fields=500) as data:
            form = {k: v for k, v in data.items() if isinstance(v, str)}
        check_csrf(request, form, self.csrf)
        context = await run_in_threadpool(self.design, path, form)
        if request.headers.get("hx-request") == "true":
            template = "results.html"
        else:
            template = "scenario.html"
        response = self.render(template, key=key, name=name, **context)
        response.headers["hx-push-url"] = f"/s/{quote(key)}/{quote(name)}?{context['query']}"
        return response

    async def replay(self, request: Request) -> Response:
        key, name, path = self._path(request)
        form = dict(request.query_params)
        context = await run_in_threadpool(self.replay_context, path, form)
        return self.render("replay.html", key=key, name=name, **context)

    async def monitor(self, request: Request) -> Response:
        key, name, path = self._path(request)
        return await self._monitor_page(request, key, name, path, dict(request.query_params))

    async def forecast(self, request: Request) -> Response:
        key, name, path = self._path(request)
        db = self._db()

        def work() -> dict[str, Any]:
            try:
                scenario = load_scenario(path)
                as_of = _monitor.parse_as_of(request.query_params.get("as_of"))
            except (ScenarioError, _monitor.FormError):
                return {"scores": None}
            return {"scores": _monitor.forecast_scores(db, scenario, as_of)}

        fragment = request.headers.get("hx-request") == "true"
        template = "forecast.html" if fragment else "forecast_page.html"
        return self.render(template, key=key, name=name, **await run_in_threadpool(work))

    async def monitor_post(self, request: Request) -> Response:
        key, name, path = self._path(request)
        action = request.path_params["action"]
        writers = {"add": _monitor.add, "correct": _monitor.correct, "retract": _monitor.retract}
        if action not in writers:
            raise HTTPException(404, "No such form.")
        async with request.form(max_files=0, max_fields=100) as data:
            form = {k: v for k, v in data.items() if isinstance(v, str)}
        check_csrf(request, form, self.csrf)
        db = self._db()
        try:
            entry = await run_in_threadpool(writers[action], db, form)
        except _monitor.FormError as exc:
            return await self._monitor_page(
                request, key, name, path, {}, form=form, action=action, problems=exc.problems
            )
        done = f"{action}: entry {entry.seq} ({entry.obs_id})"
        target = f"/s/{quote(key)}/{quote(name)}/monitor?{urlencode({'done': done})}"
        return RedirectResponse(target, status_code=303)

    def _db(self) -> Path:
        if self.config.db is None:
            raise HTTPException(404, "This app was started without a ledger (--db LEDGER).")
        return self.config.db

    async def _monitor_page(
        self,
        request: Request,
        key: str,
        name: str,
        path: Path,
        query: dict[str, str],
        form: dict[str, str] | None = None,
        action: str = "",
        problems: list[Problem] | None = None,
    ) -> Response:
        db = self._db()

        def work() -> dict[str, Any]:
            try:
                scenario = load_scenario(path)
            except ScenarioError as error:
                return {"scenario": None, "problems": error.problems}
            try:
                as_of = _monitor.parse_as_of(query.get("as_of"))
            except _monitor.FormError as exc:
                return {"scenario": scenario, "problems": exc.problems}
            view = _monitor.ledger_view(db, scenario, as_of)
            return {"scenario": scenario, "problems": [], "as_of": as_of, **view}

        context = await run_in_threadpool(work)
        status = 400 if problems else 200
        return self.render(
            "monitor.html",
            status=status,
            key=key,
            name=name,
            db=db,
            form=form or {},
            action=action,
            form_problems=problems or [],
            done=query.get("done", "") if DONE.match(query.get("done", "")) else "",
            **context,
        )

    # -- work (in a thread) ------------------------------------------------------------

    def _load(
        self, path: Path, form: dict[str, str]
    ) -> tuple[Scenario | None, Scenario | None, list[Term], dict[Loc, Any], list[Problem]]:
        """The file's scenario, the edited design (None when refused), the terms, the
        changes and the problems."""
        try:
            base = load_scenario(path)
        except ScenarioError as error:
            return None, None, [], {}, error.problems
        terms = scenario_terms(base)
        changes = changes_from(form, terms)
        if not changes:
            return base, base, terms, {}, []
        try:
            return base, load_scenario(path, changes), terms, changes, []
        except ScenarioError as error:
            return base, None, terms, changes, error.problems

    def _pinned(
        self, path: Path, form: dict[str, str], terms: list[Term]
    ) -> tuple[Scenario | None, dict[Loc, Any], list[Problem]]:
        """The pinned design (``a.`` fields), its changes from the file, its problems."""
        pinned = changes_from(form, terms, "a.")
        if not pinned:
            return None, {}, []
        try:
            return load_scenario(path, pinned), pinned, []
        except ScenarioError as error:
            return None, {}, error.problems

    def design(self, path: Path, form: dict[str, str]) -> dict[str, Any]:
        base, edited, terms, changes, problems = self._load(path, form)
        seed = _int(form.get("seed"), 0, 0, 2**32 - 1)
        n = _int(form.get("n"), DEFAULT_EPISODES, 100, MAX_EPISODES)
        pinned, pin_changes, pin_problems = self._pinned(path, form, terms)
        if pinned is not None:
            base = pinned
        kept = _kept(form, seed=seed, n=n)
        a_of = {t.loc: pin_changes.get(t.loc, t.value) for t in terms}
        b_of = {t.loc: changes.get(t.loc, t.value) for t in terms}
        differences = [(t, a_of[t.loc], b_of[t.loc]) for t in terms if a_of[t.loc] != b_of[t.loc]]
        pin = {k: v for k, v in kept.items() if not k.startswith("a.")}
        pin.update({"a." + t.field[2:]: str(changes[t.loc]) for t in terms if t.loc in changes})
        context: dict[str, Any] = {
            "scenario": base,
            "problems": problems + pin_problems,
            "source": _source(path, problems),
            "terms": terms,
            "values": {t.field: form.get(t.field, str(t.value)) for t in terms},
            "changed": [(t, changes[t.loc]) for t in terms if t.loc in changes],
            "differences": differences,
            "pinned": [(t, pin_changes[t.loc]) for t in terms if t.loc in pin_changes],
            "pinned_fields": {
                "a." + t.field[2:]: str(pin_changes[t.loc]) for t in terms if t.loc in pin_changes
            },
            "base_label": "pinned design" if pinned is not None else "as in the file",
            "pin_query": urlencode(pin) if changes and not problems else "",
            "unpin_query": urlencode({k: v for k, v in kept.items() if not k.startswith("a.")}),
            "seed": seed,
            "n": n,
            "query": urlencode(kept),
            "episode": None,
            "base_episode": None,
            "ensemble": None,
            "base_ensemble": None,
            "compiling": False,
            "error": None,
            "names": {},
            "histograms": [],
            "db": self.config.db,
        }
        if base is None:
            return context
        context["names"] = {p.id: p.name for p in base.parties} | {
            m.id: m.name for m in base.mediators
        }
        try:
            context["base_episode"] = single_run(base, seed)
            if edited is not None:
                context["episode"] = single_run(edited, seed)
                if self.ensembles.compiling(base):
                    context["compiling"] = True
                    context["compile_error"] = self.ensembles.compile_error
                else:
                    context["base_ensemble"] = self.ensembles.summary(base, n, seed)
                    context["ensemble"] = self.ensembles.summary(edited, n, seed)
        except Exception as exc:  # shown on the page: the app keeps serving
            context["error"] = f"{type(exc).__name__}: {exc}"
        if context["ensemble"] is not None:
            titled = {
                context["base_label"]: context["base_ensemble"]["pause_days"]["histogram"],
                "this design": context["ensemble"]["pause_days"]["histogram"],
            }
            context["histograms"] = histograms(titled)
            context["pause_spec"] = pause_days_spec(titled)
        return context

    def replay_context(self, path: Path, form: dict[str, str]) -> dict[str, Any]:
        base, edited, _terms, changes, problems = self._load(path, form)
        seed = _int(form.get("seed"), 0, 0, 2**32 - 1)
        context: dict[str, Any] = {
            "scenario": base,
            "problems": problems,
            "changed": bool(changes),
            "seed": seed,
            "query": urlencode(_kept(form, seed=seed)),
            "carry": sorted(_kept(form, seed=seed).items()),
            "day": None,
            "days": [],
            "names": {},
        }
        if edited is None:
            return context
        all_days = days(edited, single_run(edited, seed))
        number = _int(form.get("day"), 1, 1, len(all_days))
        context.update(
            day=all_days[number - 1],
            days=all_days,
            names={p.id: p.name for p in edited.parties} | {m.id: m.name for m in edited.mediators},
        )
        return context


def _error_page(app: App) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return app.render("error.html", status=exc.status_code, message=exc.detail)

    return handler


def create_app(config: ServeConfig) -> Starlette:
    """The ASGI app for ``config`` (``uvicorn`` serves it; tests call it directly)."""
    app = App(config)
    if not is_loopback(config.host) and not config.token:
        raise ValueError("a token is required when the app is bound to anything but loopback")
    middleware = [
        Middleware(Headers),
        Middleware(BodyLimit, limit=config.body_limit),
    ]
    if is_loopback(config.host):
        middleware.append(Middleware(LoopbackHosts))
    if config.token:
        middleware.append(Middleware(AccessToken, token=config.token))
    routes = [
        Route("/", app.index),
        Route("/s/{key}/{name}", app.scenario),
        Route("/s/{key}/{name}/run", app.run_design, methods=["POST"]),
        Route("/s/{key}/{name}/replay", app.replay),
        Route("/s/{key}/{name}/monitor", app.monitor),
        Route("/s/{key}/{name}/monitor/forecast", app.forecast),
        Route("/s/{key}/{name}/monitor/{action}", app.monitor_post, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        # The chart libraries the reports inline, served from the package itself.
        Mount("/charts", StaticFiles(packages=[("ceasefire.outputs", "vendor")]), name="charts"),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _error_page(app)},
    )
