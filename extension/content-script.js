// Shoal content script: reads the person on a LinkedIn profile page and shows the Shoal panel
// beside it. It never calls the Shoal server itself (requests with linkedin.com's origin would hit
// Local Network Access checks and need CORS for that site); the extension page in the iframe does.
(() => {
  const PANEL_ID = "shoal-panel";
  const EXT_ORIGIN = chrome.runtime.getURL("").replace(/\/$/, "");
  const MAX = 200;
  let current = null;
  let shownFor = "";

  const clean = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, MAX);
  const text = (el) => clean(el && el.textContent);

  // LinkedIn's class names change often: try the specific ones first, then looser fallbacks.
  function firstText(selectors, root) {
    for (const selector of selectors) {
      const value = text(root.querySelector(selector));
      if (value) return value;
    }
    return "";
  }

  function currentCompany(root) {
    const el = root.querySelector('[aria-label^="Current company"]');
    if (!el) return firstText(["[data-field='current_company']", ".pv-text-details__right-panel li"], root);
    const label = el.getAttribute("aria-label").replace(/^Current company:\s*/i, "");
    return clean(label.replace(/\.\s*Click.*$/i, "")) || text(el);
  }

  function profileUrl() {
    const canonical = document.querySelector('link[rel="canonical"]');
    const href = canonical && /^https:\/\/(www\.)?linkedin\.com\/in\//.test(canonical.href) ? canonical.href : "";
    const url = new URL(href || window.location.href);
    return url.origin + url.pathname;
  }

  function extractProfile() {
    const root = document.querySelector("main") || document.body;
    const name = firstText(["h1.text-heading-xlarge", ".pv-top-card h1", "h1"], root);
    if (!name) return null;
    const headline = firstText([".pv-top-card .text-body-medium", "div.text-body-medium.break-words",
      "[data-field='headline']"], root);
    const location = firstText([".pv-top-card .text-body-small.inline.t-black--light",
      "span.text-body-small.inline.t-black--light.break-words", "[data-field='location']"], root);
    let company = currentCompany(root);
    let title = headline;
    const at = headline.match(/^(.+?)\s+(?:at|@)\s+(.+)$/i);
    if (at) {
      title = at[1];
      company = company || at[2];
    }
    const mail = document.querySelector('a[href^="mailto:"]');
    const email = mail ? clean(decodeURIComponent(mail.getAttribute("href").slice(7).split("?")[0])) : "";
    const [first, ...rest] = name.split(" ");
    return { first_name: first, last_name: rest.join(" "), title, company, location, email,
      linkedin_url: profileUrl() };
  }

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
      frame.style.cssText = "position:fixed;top:72px;right:16px;width:360px;height:min(640px,80vh);" +
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

  // LinkedIn renders the profile after load and navigates without reloading: poll cheaply.
  setInterval(() => {
    const url = window.location.pathname;
    if (url === shownFor || !/^\/in\/[^/]+/.test(url)) return;
    const profile = extractProfile();
    if (!profile) return;
    current = profile;
    shownFor = url;
    showPanel();
  }, 400);
})();
