// Shoal: reads the person on a LinkedIn profile page from its DOM. Loaded before content-script.js in
// the same isolated world; exposes one function, shoalExtractProfile(), returning null until the page
// has rendered a name. Everything read here is untrusted: the server validates it again.
(() => {
  const MAX = 200;
  // LinkedIn's class names change often: the specific selectors first, then looser fallbacks.
  const NAME = ["h1.text-heading-xlarge", ".pv-top-card h1", "h1"];
  const HEADLINE = [
    ".pv-top-card .text-body-medium",
    "div.text-body-medium.break-words",
    "[data-field='headline']",
  ];
  const LOCATION = [
    ".pv-top-card .text-body-small.t-black--light",
    "span.text-body-small.inline.t-black--light",
  ];
  const COMPANY = ["[data-field='current_company']", ".pv-text-details__right-panel li"];

  const clean = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, MAX);
  const text = (el) => clean(el && el.textContent);

  function firstText(selectors, root) {
    for (const selector of selectors) {
      const value = text(root.querySelector(selector));
      if (value) return value;
    }
    return "";
  }

  function currentCompany(root) {
    const el = root.querySelector('[aria-label^="Current company"]');
    if (!el) return firstText(COMPANY, root);
    const label = el.getAttribute("aria-label").replace(/^Current company:\s*/i, "");
    return clean(label.replace(/\.\s*Click.*$/i, "")) || text(el);
  }

  // The canonical profile URL, without sub-pages such as /overlay/contact-info/ or a query.
  function profileUrl() {
    const match = window.location.pathname.match(/^\/in\/[^/]+/);
    return match ? `https://www.linkedin.com${match[0]}/` : "";
  }

  function extractProfile() {
    const root = document.querySelector("main") || document.body;
    const name = firstText(NAME, root);
    if (!name) return null;
    const headline = firstText(HEADLINE, root);
    const location = firstText([...LOCATION, "[data-field='location']"], root);
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
    const linkedin_url = profileUrl();
    return { first_name: first, last_name: rest.join(" "), title, company, location, email, linkedin_url };
  }

  globalThis.shoalExtractProfile = extractProfile;
})();
