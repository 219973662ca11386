// Check a unit's Ed25519 signature over a results message, in the browser (WebCrypto).
// The message is re-serialised here as canonical JSON (sorted keys, no whitespace, UTF-8 as is:
// device/store/canonical_json.py), so the check does not trust any bytes the server computed.
"use strict";

function comparePoints(a, b) {  // Python sorts str keys by code point, not by UTF-16 unit
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

function canonicalJSON(v) {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canonicalJSON).join(",") + "]";
  return "{" + Object.keys(v).sort(comparePoints)
    .map(k => JSON.stringify(k) + ":" + canonicalJSON(v[k])).join(",") + "}";
}

function hexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

async function verifySignedResults(signed) {
  const key = await crypto.subtle.importKey(
    "raw", hexBytes(signed.message.unit_public_key), {name: "Ed25519"}, false, ["verify"]);
  const data = new TextEncoder().encode(canonicalJSON(signed.message));
  return crypto.subtle.verify({name: "Ed25519"}, key, hexBytes(signed.signature), data);
}

async function checkUnit(i) {
  const out = document.getElementById("sig-" + i);
  const signed = JSON.parse(document.getElementById("signed-" + i).textContent);
  try {
    const ok = await verifySignedResults(signed);
    out.textContent = ok ? "valid: signed by the unit key shown" : "INVALID: does not match the message";
    out.className = ok ? "valid" : "invalid";
  } catch (err) {
    out.textContent = "cannot check here (" + err.name + ")";
    out.className = "unknown";
  }
}

function checkAll() {
  document.querySelectorAll("[data-verify]").forEach(b => {
    b.onclick = () => checkUnit(b.dataset.verify);
    checkUnit(b.dataset.verify);
  });
}

window.verifySignedResults = verifySignedResults;
window.canonicalJSON = canonicalJSON;
document.addEventListener("DOMContentLoaded", checkAll);
document.addEventListener("results-updated", checkAll);
