#!/usr/bin/env python3
"""The smoke test of a running cluster, started by `scripts/cluster.sh smoke`.

Through nginx: signs up a user, follows the verification link from the
shared mail outbox, signs in, rotates the refresh cookie several times and
checks that the rotations landed alternately on both instances (nginx names
the one that answered in X-Upstream), and reads /api/me. Then signs out
everywhere and asks each instance directly, bypassing nginx, until both
refuse the old access token: the instance that did not handle the sign-out
learns of it through PostgreSQL LISTEN/NOTIFY. Last, twice the per-IP login
limit from one client, in parallel: the instances share their buckets in
PostgreSQL, so together they allow the limit (±1), not twice it.

Each instance's Prometheus metrics (its own METRICS_ADDR, never through
nginx) are scraped before the sign-in and after the rotations: the
sign-in and the rotations must show in the counters of the two together,
and each instance must have counted refreshes under the route template.

Prints a PASS or FAIL line per step and stops at the first failure (exit
status 1). Standard library only.
"""

import argparse
import concurrent.futures
import email
import email.policy
import http.client
import http.cookies
import json
import pathlib
import re
import secrets
import sys
import time
import urllib.parse

PASSWORD = "Plum-Quartz-Harbor-91"
REFRESH_COOKIE = "refresh_token"
# Six rotations: three on each instance when they alternate.
ROTATIONS = 6
# Mail is written by a background worker after the answer.
MAIL_WAIT_SECS = 15
# A revocation reaches the other instances within milliseconds; this bounds
# the wait so that a lost notification fails the test instead of waiting for
# the 30-second reconciliation.
REVOCATION_WAIT_SECS = 5
# The instances' default RATE_LIMIT_LOGIN_PER_IP: 30 a minute.
LOGIN_LIMIT = 30
# One sample of the Prometheus text format: name{labels} value.
METRIC_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
METRIC_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Failed(Exception):
    """A step did not go as it should; the message says how."""


def check(condition, message):
    if not condition:
        raise Failed(message)


class Answer:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"answer {self.status} is not JSON: {self.body[:200]!r}")

    def upstream(self):
        """The instance that answered, as nginx names it (host:port)."""
        return self.headers.get("X-Upstream", "")

    def refresh_cookie(self):
        """The refresh_token cookie set by this answer, as a Morsel, or None."""
        for header in self.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            if REFRESH_COOKIE in cookie:
                return cookie[REFRESH_COOKIE]
        return None

    def __str__(self):
        return f"{self.status} {self.body[:300].decode(errors='replace')}"


def call(base_url, method, path, body=None, token=None, cookie=None, origin=None,
         forwarded_for=None):
    """One HTTP request on a connection of its own."""
    url = urllib.parse.urlsplit(base_url)
    headers = {"Accept": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"{REFRESH_COOKIE}={cookie}"
    if origin:
        headers["Origin"] = origin
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        return Answer(connection.getresponse())
    finally:
        connection.close()


def parse_metrics(text):
    """The samples of a scrape in the Prometheus text format, as
    (name, labels, value) tuples."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = METRIC_SAMPLE.match(line)
        check(match, f"not a sample of the text format: {line!r}")
        name, labels, value = match.groups()
        samples.append((name, dict(METRIC_LABEL.findall(labels or "")), float(value)))
    return samples


def metric_sum(samples, name, **labels):
    """The sum of the series called name whose labels include these."""
    return sum(value for sample, have, value in samples
               if sample == name and all(have.get(key) == wanted for key, wanted in labels.items()))


def verification_token(outbox, address):
    """The token of the verification link in the newest message to address,
    or None while there is none."""
    # Complete messages only: the server names each file, once written,
    # after the order of writing (digits first), so names sort by age.
    for path in sorted(outbox.glob("[0-9]*-*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address not in str(message.get("To", "")):
            continue
        text = message.get_body(preferencelist=("plain", "html")).get_content()
        link = re.search(r"\S*/verify-email\?token=[^\s\"'<>]+", text)
        check(link, f"the newest message to {address} ({path.name}) has no verification link")
        return urllib.parse.parse_qs(urllib.parse.urlsplit(link.group()).query)["token"][0]
    return None


class Smoke:
    def __init__(self, url, instances, metrics, outbox):
        self.url = url
        self.origin = url.rstrip("/")
        self.instances = instances
        self.metrics = metrics
        self.outbox = outbox
        self.baseline = None
        self.address = f"smoke-{secrets.token_hex(4)}@example.com"
        self.access_token = None
        self.cookie = None

    def instance_address(self, instance_url):
        return urllib.parse.urlsplit(instance_url).netloc

    def scrape(self):
        """Each instance's samples, scraped from its metrics address."""
        scrapes = []
        for metrics_url in self.metrics:
            answer = call(metrics_url, "GET", "/metrics")
            check(answer.status == 200, f"{metrics_url}/metrics: expected 200, got {answer}")
            content_type = answer.headers.get("Content-Type", "")
            check(content_type.startswith("text/plain"),
                  f"{metrics_url}/metrics is {content_type!r}, not the text format")
            samples = parse_metrics(answer.body.decode())
            check(metric_sum(samples, "http_requests_total") > 0,
                  f"{metrics_url}/metrics has no http_requests_total")
            scrapes.append(samples)
        return scrapes

    def totals(self, scrapes):
        """What the sign-in and the rotations add to, over both instances."""
        return {
            "sign-ins": sum(metric_sum(samples, "auth_sign_ins_total", outcome="success")
                            for samples in scrapes),
            "rotations": sum(metric_sum(samples, "auth_refresh_rotations_total")
                             for samples in scrapes),
        }

    def metrics_apart(self):
        answer = call(self.url, "GET", "/metrics")
        check(answer.status == 404, f"/metrics through nginx: expected 404, got {answer.status}")
        for instance in self.instances:
            answer = call(instance, "GET", "/metrics")
            check(answer.status == 404, f"{instance}/metrics: expected 404, got {answer.status}")
        self.baseline = self.totals(self.scrape())
        return (f"scraped {' and '.join(self.metrics)}; /metrics is 404 through nginx "
                "and on the public ports")

    def metrics_counted(self):
        scrapes = self.scrape()
        totals = self.totals(scrapes)
        expected = {"sign-ins": self.baseline["sign-ins"] + 1,
                    "rotations": self.baseline["rotations"] + ROTATIONS}
        check(totals == expected, f"counted {totals}, expected {expected}")
        for metrics_url, samples in zip(self.metrics, scrapes):
            refreshes = metric_sum(samples, "http_requests_total",
                                   route="/api/auth/refresh", status="200")
            check(refreshes > 0,
                  f"{metrics_url}: no http_requests_total for route /api/auth/refresh")
        return f"over both instances: {totals['sign-ins']:.0f} sign-in(s), " \
               f"{totals['rotations']:.0f} rotations"

    def register(self):
        answer = call(self.url, "POST", "/api/auth/register",
                      {"email": self.address, "password": PASSWORD, "name": "Smoke Test"})
        check(answer.status == 202, f"expected 202, got {answer}")
        return f"{self.address}, answered by {answer.upstream()}"

    def verify_email(self):
        deadline = time.monotonic() + MAIL_WAIT_SECS
        while (token := verification_token(self.outbox, self.address)) is None:
            check(time.monotonic() < deadline,
                  f"no message to {self.address} in {self.outbox} within {MAIL_WAIT_SECS} s")
            time.sleep(0.1)
        answer = call(self.url, "POST", "/api/auth/verify-email",
                      {"token": token, "password": PASSWORD})
        check(answer.status == 200, f"expected 200, got {answer}")
        return f"link found in the outbox, answered by {answer.upstream()}"

    def login(self):
        answer = call(self.url, "POST", "/api/auth/login",
                      {"email": self.address, "password": PASSWORD})
        check(answer.status == 200, f"expected 200, got {answer}")
        self.access_token = answer.json().get("access_token")
        check(self.access_token, f"no access_token in {answer}")
        cookie = answer.refresh_cookie()
        check(cookie and cookie.value, "no refresh_token cookie")
        check(cookie["httponly"], "the refresh_token cookie is not HttpOnly")
        check(cookie["path"] == "/api/auth",
              f"the refresh_token cookie's path is {cookie['path']!r}, not /api/auth")
        self.cookie = cookie.value
        return f"access token and HttpOnly refresh cookie, answered by {answer.upstream()}"

    def rotate(self):
        upstreams = []
        for rotation in range(1, ROTATIONS + 1):
            answer = call(self.url, "POST", "/api/auth/refresh",
                          cookie=self.cookie, origin=self.origin)
            check(answer.status == 200, f"rotation {rotation}: expected 200, got {answer}")
            cookie = answer.refresh_cookie()
            check(cookie and cookie.value and cookie.value != self.cookie,
                  f"rotation {rotation} did not set a new refresh cookie")
            self.cookie = cookie.value
            self.access_token = answer.json()["access_token"]
            upstreams.append(answer.upstream())
        expected = {self.instance_address(instance) for instance in self.instances}
        check(set(upstreams) == expected,
              f"the rotations landed on {upstreams}, not on both of {sorted(expected)}")
        check(all(a != b for a, b in zip(upstreams, upstreams[1:])),
              f"the rotations did not alternate: {upstreams}")
        return f"{ROTATIONS} rotations, each with a new cookie, on {' '.join(upstreams)}"

    def me(self):
        answer = call(self.url, "GET", "/api/me", token=self.access_token)
        check(answer.status == 200, f"expected 200, got {answer}")
        check(answer.json().get("email") == self.address,
              f"/api/me is not {self.address}: {answer}")
        return f"answered by {answer.upstream()}"

    def token_valid_on_each_instance(self):
        for instance in self.instances:
            answer = call(instance, "GET", "/api/me", token=self.access_token)
            check(answer.status == 200, f"{instance}: expected 200, got {answer}")
        return "GET /api/me answers 200 on " + " and ".join(self.instances)

    def logout_all(self):
        answer = call(self.url, "POST", "/api/auth/logout-all",
                      token=self.access_token, origin=self.origin)
        check(answer.status == 204, f"expected 204, got {answer}")
        return f"answered by {answer.upstream()}"

    def token_refused_on_each_instance(self):
        started = time.monotonic()
        waited = []
        for instance in self.instances:
            while (answer := call(instance, "GET", "/api/me", token=self.access_token)).status != 401:
                check(answer.status == 200, f"{instance}: expected 401 (or 200 for a moment), got {answer}")
                check(time.monotonic() - started < REVOCATION_WAIT_SECS,
                      f"{instance} still accepts the token {REVOCATION_WAIT_SECS} s after logout-all")
                time.sleep(0.02)
            waited.append(f"{instance} after {(time.monotonic() - started) * 1000:.0f} ms")
        return "401 from " + ", ".join(waited)

    def shared_login_limit(self):
        """Twice the per-IP login limit from one client (an address of its
        own, named in X-Forwarded-For, which nginx passes on and the
        instances trust from it), in parallel, through nginx: the two
        instances together allow the limit, as one would."""
        client = f"198.51.100.{secrets.randbelow(200) + 20}"

        def attempt(number):
            return call(self.url, "POST", "/api/auth/login",
                        {"email": f"limit-{number}-{secrets.token_hex(3)}@example.com",
                         "password": "Not-The-Password-42"},
                        forwarded_for=client)

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(attempt, range(2 * LOGIN_LIMIT)))
        refused = [answer for answer in answers if answer.status == 429]
        allowed = [answer for answer in answers if answer.status != 429]
        check(all(answer.status == 401 for answer in allowed),
              f"expected 401 or 429, got {[answer.status for answer in answers]}")
        check(abs(len(allowed) - LOGIN_LIMIT) <= 1,
              f"{len(allowed)} of {2 * LOGIN_LIMIT} allowed, expected {LOGIN_LIMIT} (±1)")
        check(all(answer.headers.get("Retry-After", "").isdigit() for answer in refused),
              "a 429 without a Retry-After in seconds")
        upstreams = {answer.upstream() for answer in answers}
        check(len(upstreams) == 2, f"the attempts landed on {upstreams}, not on both instances")
        return f"{len(allowed)} allowed, {len(refused)} refused with Retry-After, " \
               f"over {' and '.join(sorted(upstreams))}"

    def refresh_refused(self):
        answer = call(self.url, "POST", "/api/auth/refresh", cookie=self.cookie, origin=self.origin)
        check(answer.status == 401, f"expected 401, got {answer}")
        return f"answered by {answer.upstream()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="nginx, e.g. http://127.0.0.1:8080")
    parser.add_argument("--instance", action="append", required=True,
                        help="an instance's own URL (give both)")
    parser.add_argument("--metrics", action="append", required=True,
                        help="an instance's metrics address (give both)")
    parser.add_argument("--outbox", required=True, type=pathlib.Path,
                        help="the instances' MAIL_OUTBOX_DIR")
    arguments = parser.parse_args()

    smoke = Smoke(arguments.url, arguments.instance, arguments.metrics, arguments.outbox)
    steps = [
        ("each instance serves its metrics on an address of its own", smoke.metrics_apart),
        ("register through nginx", smoke.register),
        ("verify the email with the link from the outbox", smoke.verify_email),
        ("sign in", smoke.login),
        ("rotate the refresh cookie on both instances in turn", smoke.rotate),
        ("the metrics of both instances counted the sign-in and the rotations",
         smoke.metrics_counted),
        ("GET /api/me with the access token through nginx", smoke.me),
        ("each instance, asked directly, accepts the access token", smoke.token_valid_on_each_instance),
        ("sign out everywhere through nginx", smoke.logout_all),
        ("each instance, asked directly, refuses the old access token", smoke.token_refused_on_each_instance),
        ("the last refresh cookie is refused", smoke.refresh_refused),
        ("twice the login limit through nginx: both instances together allow one limit",
         smoke.shared_login_limit),
    ]
    started = time.monotonic()
    for title, run in steps:
        try:
            detail = run()
        except (Failed, OSError) as error:
            print(f"FAIL  {title}: {error}", flush=True)
            return 1
        print(f"PASS  {title}: {detail}", flush=True)
    print(f"smoke test passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
