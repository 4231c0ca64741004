// Where the panel's person comes from. In the page's iframe: the content script posts it. In the
// Chrome side panel: the service worker keeps one profile per tab, and the panel shows the one of the
// active tab beside it (opened as a plain tab, for tests or debugging: the last one captured).

if (inFrame) {
  document.getElementById("close-panel").hidden = false;
  document.getElementById("to-side-panel").hidden = false;
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.source !== window.parent || !data) return;
    if (data.type === "shoal_profile_loading") return showLoading();
    if (data.type !== "shoal_profile") return;
    if (typeof data.profile !== "object" || data.profile === null) return;
    profile = data.profile;
    start();
  });
} else {
  let shownKey = null;
  let asTab = false;
  const loadCaptured = async () => {
    const [self, [active]] = await Promise.all([
      chrome.tabs.getCurrent(),
      chrome.tabs.query({ active: true, currentWindow: true }),
    ]);
    const { lastTabId } = await chrome.storage.session.get("lastTabId");
    asTab = Boolean(self);
    shownKey = `profile:${asTab ? lastTabId : active && active.id}`;
    profile = (await chrome.storage.session.get(shownKey))[shownKey] || null;
    start();
  };
  loadCaptured();
  chrome.tabs.onActivated.addListener(loadCaptured);
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "session" && (changes[shownKey] || (asTab && changes.lastTabId))) loadCaptured();
  });
}

document.getElementById("open-options").addEventListener("click", () => chrome.runtime.openOptionsPage());
document
  .getElementById("close-panel")
  .addEventListener("click", () => window.parent.postMessage({ type: "shoal_close" }, "*"));

// Move from the in-page panel to Chrome's side panel. open() must run inside the click (the user
// gesture it requires), so the window id is looked up beforehand.
let windowId = null;
chrome.windows.getCurrent().then((win) => (windowId = win.id));
document.getElementById("to-side-panel").addEventListener("click", () => {
  chrome.sidePanel
    .open({ windowId })
    .then(() => window.parent.postMessage({ type: "shoal_close" }, "*"))
    .catch((error) => showProblem(`Chrome would not open the side panel: ${error.message}`));
});
