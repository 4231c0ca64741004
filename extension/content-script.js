// Shoal content script: shows the Shoal panel beside a LinkedIn profile and hands it the person
// read by profile-extract.js. It never calls the Shoal server itself (requests with linkedin.com's
// origin would hit Local Network Access checks and need CORS for that site); the iframe's
// extension page does.
(() => {
  const PANEL_ID = "shoal-panel";
  const EXT_ORIGIN = chrome.runtime.getURL("").replace(/\/$/, "");
  let current = null;
  let shownFor = "";

  function postProfile(frame) {
    if (frame.contentWindow && current) {
      const { __slug, ...profile } = current;
      frame.contentWindow.postMessage({ type: "shoal_profile", profile }, EXT_ORIGIN);
    }
  }

  function showPanel() {
    let frame = document.getElementById(PANEL_ID);
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = PANEL_ID;
      frame.title = "Shoal";
      frame.src = chrome.runtime.getURL("panel.html");
      frame.style.cssText =
        "position:fixed;top:72px;right:16px;width:360px;height:min(640px,80vh);" +
        "border:1px solid #c8ccd0;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.2);" +
        "background:#fff;z-index:2147483647";
      frame.addEventListener("load", () => postProfile(frame));
      document.documentElement.appendChild(frame);
    } else {
      postProfile(frame);
    }
    const { __slug, ...profile } = current;
    chrome.runtime.sendMessage({ type: "profile_captured", profile }).catch(() => {});
  }

  window.addEventListener("message", (event) => {
    const frame = document.getElementById(PANEL_ID);
    if (frame && event.source === frame.contentWindow && event.data && event.data.type === "shoal_close") {
      frame.remove();
    }
  });

  // LinkedIn renders the profile after load and navigates without reloading: poll cheaply. On a new
  // profile URL the panel is cleared at once (it must never show the previous person), then filled
  // once the page shows a new person: anything read differs from the previous profile, or the name
  // element was re-rendered (two namesakes with the same headline). Until then the old DOM is still
  // on screen, and reading it would pair the previous person with the new URL. On the same profile,
  // re-send only when the page shows more (e.g. the contact-info overlay's email).
  let nameNode = null;
  const sameAs = (a, b) =>
    ["first_name", "last_name", "title", "company", "location", "email"].every((k) => (a[k] || "") === (b[k] || ""));
  setInterval(() => {
    const slug = (window.location.pathname.match(/^\/in\/[^/]+/) || [""])[0];
    if (slug !== shownFor && current && current.__slug !== slug) {
      current.__slug = slug;
      const frame = document.getElementById(PANEL_ID);
      if (frame && frame.contentWindow) {
        frame.contentWindow.postMessage({ type: "shoal_profile_loading" }, EXT_ORIGIN);
      }
    }
    const profile = slug && globalThis.shoalExtractProfile();
    if (!profile) return;
    const node = document.querySelector("main h1") || document.querySelector("h1");
    if (slug === shownFor) {
      const gained = Object.keys(profile).filter((k) => profile[k] && !current[k]);
      if (!gained.length) return;
      gained.forEach((k) => (current[k] = profile[k]));
      return showPanel();
    }
    if (current && node === nameNode && sameAs(current, profile)) return; // the previous page, still
    current = profile;
    nameNode = node;
    shownFor = slug;
    showPanel();
  }, 400);
})();
