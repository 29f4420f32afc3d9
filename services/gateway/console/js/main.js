// Pépinière's web console: plain JavaScript modules over the REST gateway, in the State design
// system (DSFR, served by the gateway from local files — closed networks have no CDN), with DSFR
// Chart web components for the bar and line charts and SVG drawn here for the phase timeline.
// French UI, English code. Pages are rendered from the URL (history API), and every filter of a
// list lives in its query string, so a view can be shared. Every call goes through api()
// (api.js). People sign in with their administration account (ProConnect, OpenID Connect): the
// gateway keeps the session and the browser only an HttpOnly cookie — this page holds no secret.
// This file: the sign-in page and the router.
import { api } from './api.js';
import { accounts, tokens } from './pages/admin.js';
import { bell, notifications } from './pages/notifications.js';
import { challenge, challenges, idea, jury, myIdeas } from './pages/challenges.js';
import { committee, committees, preread } from './pages/committees.js';
import { portfolio } from './pages/portfolio.js';
import { feedbackForm, startup } from './pages/startup.js';
import { NOBODY, has, main, me, setMe, teamStartups } from './session.js';
import { alertBox, esc, go } from './ui.js';
import { ROLE_LABELS, word } from './words.js';

function signIn() {
  const back = encodeURIComponent(location.pathname === '/' ? '/' : location.pathname + location.search);
  main().innerHTML = me.sign_in_available ? `
    <h1>Connexion</h1>
    <p>Connectez-vous avec le compte de votre administration. À la première connexion, un compte
      d'agent est créé : vous pouvez déposer des idées aux défis ouverts et suivre les vôtres.</p>
    <div class="fr-connect-group">
      <a class="fr-connect" id="proconnect" href="/auth/login?return_to=${back}">
        <span class="fr-connect__login">Se connecter avec</span> <span class="fr-connect__brand">ProConnect</span></a>
    </div>
    <p class="fr-text--sm">Les équipes qui publient depuis leur CI utilisent un jeton d'accès (<code>pepctl</code>), pas cette page.</p>` : `
    <h1>Connexion</h1>
    ${alertBox('warning', "Aucun fournisseur d'identité n'est configuré sur cette passerelle (--oidc_issuer) : seuls les jetons d'accès (pepctl) fonctionnent.")}`;
}

// --- routing --------------------------------------------------------------------------------

// One page is drawn at a time: a click while a slow page loads draws the newer URL after it, so
// an older answer never replaces a newer page. (go() must not return render()'s promise: a
// page that redirects would wait for itself.)
let drawing = null;
let redraw = false;
function render() {
  if (drawing) {
    redraw = true;
    return drawing;
  }
  drawing = (async () => {
    try {
      do {
        redraw = false;
        await draw();
      } while (redraw);
    } finally {
      drawing = null;
    }
  })();
  return drawing;
}

async function draw() {
  rendered = location.pathname + location.search;
  const path = decodeURIComponent(location.pathname);
  const nav = document.getElementById('navigation');
  const signedIn = me.via !== '' && me.role !== 'public';
  nav.hidden = !signedIn;
  document.getElementById('tools').hidden = !signedIn;
  document.getElementById('whoami').textContent = signedIn
    ? `${me.display_name || me.actor} (${(me.roles || []).map((r) => word(ROLE_LABELS, r)).join(', ')})` : '';
  nav.querySelectorAll('[data-roles]').forEach((li) => { li.hidden = !li.dataset.roles.split(' ').some(has); });
  document.getElementById('my-startups').innerHTML = teamStartups().map((sid) =>
    `<a class="fr-nav__link" href="/startups/${esc(sid)}">Ma start-up</a>`).join(' ');
  nav.querySelectorAll('.fr-nav__link').forEach((a) => {
    if (a.pathname === location.pathname || (a.pathname !== '/' && location.pathname.startsWith(a.pathname + '/'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (signedIn) bell();  // not awaited: the page does not wait for the count
  let m;
  try {
    if ((m = path.match(/^\/avis\/([^/]+)$/))) return feedbackForm(m[1]);
    if (!signedIn) return signIn();
    if (path === '/' || path === '') {
      if (!has('agent') && teamStartups().length) return go('/startups/' + teamStartups()[0]);
      return go(has('coordinator') ? '/portefeuille' : has('juror') ? '/jury' : '/defis');
    }
    if (path === '/defis') return await challenges();
    if (path === '/jury') return await jury();
    if (path === '/mes-idees') return await myIdeas();
    if ((m = path.match(/^\/defis\/([^/]+)$/))) return await challenge(m[1]);
    if ((m = path.match(/^\/idees\/([^/]+)$/))) return await idea(m[1]);
    if (path === '/portefeuille') return await portfolio();
    if ((m = path.match(/^\/startups\/([^/]+)$/))) return await startup(m[1]);
    if (path === '/comites') return await committees();
    if ((m = path.match(/^\/comites\/([^/]+)$/))) return await committee(m[1]);
    if ((m = path.match(/^\/prelectures\/([^/]+)$/))) return await preread(m[1]);
    if (path === '/jetons') return await tokens();
    if (path === '/notifications') return await notifications();
    if (path === '/comptes') return await accounts();
    main().innerHTML = '<h1>Page introuvable</h1>' + alertBox('warning', "Cette adresse ne correspond à aucune page de la console.");
  } catch (e) {
    if (e.status === 401) {  // the session ended (signed out elsewhere, idle, 12 h)
      setMe(await whoAmI());
      return signIn();
    }
    main().innerHTML = `<h1>Erreur</h1>${alertBox('error', e.message)}`;
  } finally {
    document.title = 'Pépinière — ' + (main().querySelector('h1')?.textContent || 'console');
  }
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  // Console pages only: sign-in pages are the gateway's and the provider's, files and the API
  // are not pages — those get a real navigation.
  if (a && a.href && a.origin === location.origin && !(a.getAttribute('href') || '').startsWith('#') &&
      !/^\/(auth|ledger|v1)\//.test(a.pathname) &&
      !a.pathname.includes('.') && !a.target && !a.hasAttribute('download') && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    history.pushState({}, '', a.pathname + a.search);
    render().then(() => {
      window.scrollTo(0, 0);
      main().focus({ preventScroll: true });
    });
  }
});
// Back and forward re-render; a jump to an anchor (the skip links) fires popstate too, and must
// not re-render the page under the keyboard.
let rendered = '';
window.addEventListener('popstate', () => {
  if (location.pathname + location.search !== rendered) render();
});
async function whoAmI() {
  try { return await api('GET', '/v1/me'); } catch (e) { return NOBODY; }
}

(async () => {
  setMe(await whoAmI());
  render();
})();

export { render };
