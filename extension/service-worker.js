// Shoal service worker: opens the side panel from the toolbar button and routes messages.
// Messages are {type: "snake_case", ...}; handlers return true only when they reply asynchronously.

function enableActionPanel() {
  chrome.sidePanel
    .setPanelBehavior({ openPanelOnActionClick: true })
    .catch((error) => console.warn("Shoal: side panel behaviour not set", error));
}

chrome.runtime.onInstalled.addListener(enableActionPanel);
chrome.runtime.onStartup.addListener(enableActionPanel);

const handlers = {
  // From the content script: remember each tab's captured profile for the side panel, which (unlike
  // the in-page iframe) has no page to receive it from. Session storage is cleared with the browser.
  profile_captured(message, sender) {
    if (!sender.tab || typeof message.profile !== "object" || message.profile === null) return false;
    chrome.storage.session.set({ [`profile:${sender.tab.id}`]: message.profile, lastTabId: sender.tab.id });
    return false;
  },
  open_side_panel(message, sender) {
    const tabId = sender.tab ? sender.tab.id : message.tabId;
    if (typeof tabId === "number") chrome.sidePanel.open({ tabId }).catch(() => {});
    return false;
  },
  open_options() {
    chrome.runtime.openOptionsPage();
    return false;
  },
};

chrome.tabs.onRemoved.addListener((tabId) => chrome.storage.session.remove(`profile:${tabId}`));

chrome.runtime.onMessage.addListener((message, sender) => {
  if (sender.id !== chrome.runtime.id || !message || !Object.hasOwn(handlers, message.type)) return false;
  return handlers[message.type](message, sender);
});
