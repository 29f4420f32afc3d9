// « Mes notifications »: what Pépinière told this person (newest first, unread marked), each with
// a link to its page, and how each category reaches them by e-mail. The bell in the header shows
// the unread count on every page.
import { api } from '../api.js';
import { render } from '../main.js';
import { main } from '../session.js';
import { alertBox, badge, date, esc, onSubmit, submit, toast } from '../ui.js';

const DELIVERIES = [
  ['DELIVERY_IMMEDIATE', 'À chaque fois (un courriel par notification)'],
  ['DELIVERY_DAILY', 'Une fois par jour (récapitulatif du matin)'],
  ['DELIVERY_WEEKLY', 'Une fois par semaine (récapitulatif du lundi)'],
  ['DELIVERY_NONE', 'Jamais (seulement dans la console)'],
];

// The bell: a link to this page with the unread count; silent when pep-notify does not answer
// (the rest of the console works without it).
async function bell() {
  const a = document.getElementById('bell');
  if (!a) return;
  try {
    const r = await api('GET', '/v1/notifications?page_size=1&unread_only=true');
    const n = r.unread || 0;
    a.textContent = n === 0 ? 'Notifications' : `Notifications (${n} non lue${n > 1 ? 's' : ''})`;
    a.setAttribute('aria-label', n === 0 ? 'Notifications, aucune non lue' : `Notifications, ${n} non lue${n > 1 ? 's' : ''}`);
  } catch (e) {
    a.textContent = 'Notifications';
    a.removeAttribute('aria-label');
  }
}

function radios(category, label, current) {
  return `<fieldset class="fr-fieldset" id="pref-${esc(category)}" data-field="categories">
    <legend class="fr-fieldset__legend">${esc(label)}</legend>
    ${DELIVERIES.map(([value, text]) => `<div class="fr-fieldset__element"><div class="fr-radio-group">
      <input type="radio" id="pref-${esc(category)}-${value}" name="${esc(category)}" value="${value}"${value === current ? ' checked' : ''}>
      <label class="fr-label" for="pref-${esc(category)}-${value}">${esc(text)}</label></div></div>`).join('')}
  </fieldset>`;
}

async function notifications() {
  const [list, prefs] = await Promise.all([
    api('GET', '/v1/notifications?page_size=100'),
    api('GET', '/v1/notifications/preferences'),
  ]);
  const items = list.notifications || [];
  main().innerHTML = `
    <h1>Mes notifications</h1>
    <p>${list.unread ? `${list.unread} non lue${list.unread > 1 ? 's' : ''} sur ${items.length}.` : 'Tout est lu.'}</p>
    ${list.unread ? '<button class="fr-btn fr-btn--secondary fr-mb-3w" type="button" id="read-all">Tout marquer comme lu</button>' : ''}
    ${items.length === 0 ? alertBox('info', "Rien pour l'instant : vous serez prévenu·e ici de ce qui vous concerne.") : `
    <ul class="pep-notifications">
      ${items.map((n) => `<li class="fr-mb-2w">
        <p class="fr-mb-0">${n.read_at ? '' : badge('Non lue', 'new') + ' '}<a href="${esc(n.link)}" data-read="${esc(n.id)}">${esc(n.title)}</a></p>
        <p class="fr-text--xs fr-mb-0">${esc(date(n.created_at))}</p>
        ${(n.body || '').split('\n\n').map((para) => `<p class="fr-text--sm fr-mb-0">${esc(para)}</p>`).join('')}
      </li>`).join('')}
    </ul>`}
    <h2 class="fr-mt-4w">Recevoir par courriel</h2>
    <p>Toutes les notifications restent dans cette page ; choisissez ce que vous recevez aussi par courriel.</p>
    <form id="preferences" class="pep-form">
      ${(prefs.categories || []).map((c) => radios(c.category, c.label, c.delivery)).join('')}
      ${submit('Enregistrer mes choix')}
    </form>`;
  document.getElementById('read-all')?.addEventListener('click', async () => {
    try {
      await api('POST', '/v1/notifications:read', { all: true });
      toast('Notifications marquées comme lues');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  // Following a notification marks it read (the page it leads to is drawn by the router).
  main().querySelectorAll('[data-read]').forEach((a) => a.addEventListener('click', () => {
    api('POST', '/v1/notifications:read', { notification_ids: [a.dataset.read] }).then(bell, () => {});
  }));
  onSubmit(document.getElementById('preferences'), async (f) => {
    const categories = (prefs.categories || []).map((c) => ({ category: c.category, delivery: f.get(c.category) || c.delivery }));
    await api('PUT', '/v1/notifications/preferences', { categories });
    toast('Vos choix sont enregistrés');
  });
}

export { bell, notifications };
