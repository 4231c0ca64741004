// The panel shell (in-page iframe or Chrome side panel): points htmx at the Shoal server with the
// user's extension token. Extension pages allow no eval, so all behaviour lives here and in
// panel-profile.js (where the captured person comes from), not in hx-on attributes.
const DEFAULT_SERVER = "http://127.0.0.1:5000";
const settings = { server: DEFAULT_SERVER, token: "" };
const inFrame = window.parent !== window;
let settingsLoaded = false;
let profile = null;
// htmx wires hx-trigger listeners on DOMContentLoaded; a listener added after its own runs after it,
// so an event fired once this resolves can't be missed (storage may answer before the DOM is ready).
const htmxReady = new Promise((resolve) =>
  document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", resolve) : resolve(),
);

htmx.config.selfRequestsOnly = false;
htmx.config.allowEval = false;
htmx.config.allowScriptTags = false;
htmx.config.historyEnabled = false;
htmx.config.reportValidityOfForms = true; // say why Add did nothing (no campaign picked, no name)
// Swap 4xx fragments (a validation message, "paste your token") instead of dropping them.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "4..", swap: true, error: true },
  { code: "...", swap: false, error: true },
];

const serverOrigin = () => new URL(settings.server).origin;

document.body.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.path.startsWith("/")) event.detail.path = settings.server + event.detail.path;
  event.detail.headers["Authorization"] = "Bearer " + settings.token;
});

document.body.addEventListener("htmx:validateUrl", (event) => {
  if (event.detail.url.origin !== serverOrigin()) event.preventDefault();
});

function showProblem(message) {
  const box = document.getElementById("panel-offline");
  box.textContent = message;
  box.hidden = !message;
}

document.body.addEventListener("htmx:sendError", () =>
  showProblem(`Can't reach Shoal at ${settings.server}. Check the server address in the options.`),
);
document.body.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) showProblem(`Shoal had a problem (${status}). Please try again.`);
});
document.body.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) showProblem("");
});

// LinkedIn moved to another profile: drop the previous person at once, before the new one is read.
function showLoading() {
  const main = document.getElementById("panel-main");
  main.replaceChildren();
  const p = document.createElement("p");
  p.className = "muted";
  p.id = "panel-loading";
  p.textContent = "Loading the next profile…";
  main.appendChild(p);
}

function start() {
  if (!settingsLoaded || (inFrame && !profile)) return;
  const form = document.getElementById("profile");
  for (const input of form.elements) {
    const value = profile && profile[input.name];
    input.value = typeof value === "string" ? value.slice(0, 500) : "";
  }
  htmxReady.then(() => htmx.trigger(document.body, "shoal:ready"));
}

function applySettings(stored) {
  settings.server = (stored.serverUrl || DEFAULT_SERVER).replace(/\/+$/, "");
  settings.token = stored.token || "";
  settingsLoaded = true;
}

// chrome.storage is async and htmx:configRequest is not: load the token before the first request.
chrome.storage.local.get(["serverUrl", "token"]).then((stored) => {
  applySettings(stored);
  start();
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && (changes.serverUrl || changes.token)) {
    chrome.storage.local.get(["serverUrl", "token"]).then((stored) => (applySettings(stored), start()));
  }
});
