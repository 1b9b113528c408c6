// The colour theme, set before the stylesheet applies so the page never flashes the
// wrong one. A classic (not module) script on purpose: it runs synchronously in <head>.
//
// html[data-theme] is 'light' or 'dark': the choice stored by the page's toggle
// (localStorage 'parley.theme'), or else the system's, followed live while no choice
// is stored. app.js owns the toggle and calls window.parleyTheme.set().
(() => {
  const KEY = 'parley.theme';
  const system = window.matchMedia('(prefers-color-scheme: dark)');
  const stored = () => {
    try {
      const value = localStorage.getItem(KEY);
      return value === 'light' || value === 'dark' ? value : null;
    } catch {
      return null; // storage disabled: follow the system
    }
  };
  const apply = () => {
    document.documentElement.dataset.theme = stored() ?? (system.matches ? 'dark' : 'light');
    window.dispatchEvent(new Event('parley-theme'));
  };
  system.addEventListener('change', apply);
  window.addEventListener('storage', (event) => {
    if (event.key === KEY) apply(); // another tab toggled
  });
  window.parleyTheme = {
    get: () => document.documentElement.dataset.theme,
    /** 'light' | 'dark' to choose one, null to follow the system again. */
    set: (theme) => {
      try {
        if (theme) localStorage.setItem(KEY, theme);
        else localStorage.removeItem(KEY);
      } catch {
        // not remembered, but still applied to this page
        document.documentElement.dataset.theme = theme ?? (system.matches ? 'dark' : 'light');
        window.dispatchEvent(new Event('parley-theme'));
        return;
      }
      apply();
    },
  };
  apply();
})();
