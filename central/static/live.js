// Live updates from any static web server: poll version.json; when the published version is
// newer than the page's, fetch this page again and swap in its <main> (the figures are always
// rendered by the server; this script only refreshes them). ?poll=MS sets the interval.
"use strict";

(function () {
  const root = document.querySelector('meta[name="results-root"]').content;
  const every = Number(new URLSearchParams(location.search).get("poll")) || 2000;
  let current = Number(document.querySelector('meta[name="results-version"]').content);
  let seen = current;  // the site's version last seen (a station page keeps its own, older one)

  async function poll() {
    try {
      const r = await fetch(root + "version.json", {cache: "no-store"});
      const v = (await r.json()).version;
      if (v > seen) {
        seen = v;
        const page = await fetch(location.pathname, {cache: "no-store"});
        const doc = new DOMParser().parseFromString(await page.text(), "text/html");
        const fresh = doc.getElementById("main");
        if (fresh && Number(fresh.dataset.version) > current) {
          current = Number(fresh.dataset.version);
          document.getElementById("main").replaceWith(fresh);
          document.dispatchEvent(new CustomEvent("results-updated", {detail: {version: current}}));
        }
      }
    } catch (err) { /* the next poll tries again */ }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
})();
