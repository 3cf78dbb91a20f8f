// The status page's script: polls /status.json every 2 s and updates the page in place.
// Every string from the document is set as text (textContent), never parsed as HTML: titles,
// channel and game names come from strangers.
"use strict";

const POLL_MS = 2000;
const number = new Intl.NumberFormat("en");

/** The element with this id. */
function byId(id) {
  return document.getElementById(id);
}

/** Sets an element's text. */
function setText(id, text) {
  byId(id).textContent = text;
}

/** A table cell holding `text`, of class `kind` ("num" aligns right, "title" may wrap anywhere). */
function cell(text, kind) {
  const td = document.createElement("td");
  td.textContent = text;
  if (kind) td.className = kind;
  return td;
}

/** Replaces a table body's rows: one row a item, its cells from `cells(item)`. */
function fillRows(id, items, cells) {
  const rows = items.map((item) => {
    const tr = document.createElement("tr");
    for (const [text, kind] of cells(item)) tr.append(cell(text, kind));
    return tr;
  });
  byId(id).replaceChildren(...rows);
}

/** 3725 s as "1 h 02 min"; under an hour as "12 min 05 s". */
function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s} s`;
}

function ms(value) {
  return value === null ? "–" : `${(value / 1000).toFixed(1)} s`;
}

function clock(iso) {
  return iso === null ? "–" : new Date(iso).toLocaleTimeString("en-GB", { hour12: false });
}

function renderLive(live) {
  setText("live-count", number.format(live.streams));
  setText("live-viewers", number.format(live.viewers));
  fillRows("top-streams", live.topStreams, (s) => [
    [number.format(s.viewers), "num"],
    [s.channel],
    [s.title, "title"],
    [s.game],
    [duration(s.uptimeSeconds), "num"],
  ]);
  fillRows("games-viewers", live.topGamesByViewers, (g) => [
    [g.name || "(no category)"],
    [number.format(g.viewers), "num"],
    [number.format(g.streams), "num"],
  ]);
  fillRows("games-streams", live.topGamesByStreams, (g) => [
    [g.name || "(no category)"],
    [number.format(g.streams), "num"],
    [number.format(g.viewers), "num"],
  ]);
  setText("new-count", number.format(live.newStreams.count));
  fillRows("new-streams", live.newStreams.latest, (s) => [
    [s.channel],
    [s.title, "title"],
    [s.game],
    [number.format(s.viewers), "num"],
    [duration(s.uptimeSeconds), "num"],
  ]);
  fillRows("top-tags", live.topTags, (t) => [[t.tag], [number.format(t.streams), "num"]]);
}

function renderTimeline(scans) {
  const longest = Math.max(1, ...scans.map((s) => Math.max(s.durationMs, s.rateBoundMs ?? 0)));
  const bars = scans.map((s) => {
    const bar = document.createElement("div");
    bar.className = `scan ${s.result}`;
    bar.style.height = `${(100 * s.durationMs) / longest}%`;
    bar.title = `${clock(s.finishedAt)}: ${s.result}, ${ms(s.durationMs)} (rate bound ${
      ms(s.rateBoundMs)
    }), ${s.records} records`;
    if (s.rateBoundMs !== null) {
      const bound = document.createElement("div");
      bound.className = "bound";
      // Measured from the bar's bottom, in the bar's own height.
      bound.style.bottom = `${(100 * s.rateBoundMs) / Math.max(1, s.durationMs)}%`;
      bar.append(bound);
    }
    return bar;
  });
  byId("timeline").replaceChildren(...bars);
  fillRows("scans", scans.slice(-10).reverse(), (s) => [
    [clock(s.finishedAt), "num"],
    [s.result],
    [ms(s.durationMs), "num"],
    [ms(s.rateBoundMs), "num"],
    [number.format(s.records), "num"],
    [number.format(s.ended), "num"],
    [number.format(s.recovered), "num"],
    [number.format(s.deselected), "num"],
    [s.error ?? "", "title"],
  ]);
}

function renderService(service) {
  const ready = byId("ready");
  ready.textContent = service.ready ? "yes" : "no";
  ready.className = service.ready ? "good" : "bad";
  setText("readiness", service.ready ? "" : `(${service.readiness})`);
  setText("role", service.role);
  const kafka = byId("kafka");
  kafka.textContent = service.kafka.reachable ? "reachable" : "unreachable";
  kafka.className = service.kafka.reachable ? "good" : "bad";
  const error = byId("kafka-error");
  error.hidden = service.kafka.reachable || service.kafka.lastError === null;
  error.textContent = service.kafka.lastError === null
    ? ""
    : `Kafka's last error (${clock(service.kafka.lastErrorAt)}): ${service.kafka.lastError}`;
  setText(
    "since-success",
    service.sinceSuccessSeconds === null
      ? "none yet"
      : `${duration(service.sinceSuccessSeconds)} ago`,
  );
  const b = service.budget;
  setText(
    "budget",
    b.perMinute === null
      ? "no rate limit known"
      : `${number.format(b.perMinute)} points a minute, ${
        b.remaining === null ? "?" : number.format(b.remaining)
      } left; the last scan paid ${b.lastScanPoints ?? "?"} points`,
  );
  renderTimeline(service.scans);
  const es = service.eventsub;
  if (es === null) {
    setText("eventsub", "off (no watchlist)");
    byId("events").replaceChildren();
    return;
  }
  setText(
    "eventsub",
    `${
      es.connected ? "connected" : "not connected"
    }: ${es.shards.connected} of ${es.shards.total} shards; ${es.channels} channels subscribed; real-time coverage: ${es.coverage.streams} live streams, ${
      (100 * es.coverage.streamShare).toFixed(2)
    }% of streams, ${(100 * es.coverage.viewerShare).toFixed(1)}% of viewers`,
  );
  fillRows("events", [...es.lastEvents].reverse(), (e) => [
    [clock(e.at), "num"],
    [e.kind],
    [e.channel ?? ""],
    [e.stream],
  ]);
}

async function refresh() {
  try {
    const response = await fetch("/status.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const status = await response.json();
    renderLive(status.live);
    renderService(status.service);
    setText("generated", clock(status.generatedAt));
    byId("stale").hidden = true;
  } catch {
    byId("stale").hidden = false;
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

refresh();
