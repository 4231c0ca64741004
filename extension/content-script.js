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
      frame.contentWindow.postMessage({ type: "shoal_profile", profile: current }, EXT_ORIGIN);
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
    chrome.runtime.sendMessage({ type: "profile_captured", profile: current }).catch(() => {});
  }

  window.addEventListener("message", (event) => {
    const frame = document.getElementById(PANEL_ID);
    if (frame && event.source === frame.contentWindow && event.data && event.data.type === "shoal_close") {
      frame.remove();
    }
  });

  // LinkedIn renders the profile after load and navigates without reloading: poll cheaply. After a
  // navigation the old name can linger for a moment, so wait (a little) for it to change. On the same
  // profile, re-send only when the page shows more (e.g. the contact-info overlay's email).
  let staleTicks = 0;
  setInterval(() => {
    const slug = (window.location.pathname.match(/^\/in\/[^/]+/) || [""])[0];
    const profile = slug && globalThis.shoalExtractProfile();
    if (!profile) return;
    if (slug === shownFor) {
      const gained = Object.keys(profile).filter((k) => profile[k] && !current[k]);
      if (!gained.length) return;
      gained.forEach((k) => (current[k] = profile[k]));
      return showPanel();
    }
    const sameName =
      current && current.first_name === profile.first_name && current.last_name === profile.last_name;
    if (sameName && staleTicks++ < 5) return;
    staleTicks = 0;
    current = profile;
    shownFor = slug;
    showPanel();
  }, 400);
})();
