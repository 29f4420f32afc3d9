// Coordinators' pages: access tokens for CI, and accounts with their grants.
import { allPages, api } from '../api.js';
import { render } from '../main.js';
import { has, main, teamStartups } from '../session.js';
import { badge, dataTable, date, esc, field, onSubmit, select, submit, toast } from '../ui.js';
import { ROLE_LABELS, word } from '../words.js';

async function tokens() {
  const data = await api('GET', '/v1/tokens');
  const isCoord = has('coordinator');
  main().innerHTML = `
    <h1>Jetons d'accès</h1>
    <p>Pour les machines (la CI d'une équipe appelle <code>pepctl</code>) : un jeton ne dure pas plus que
      la limite de la passerelle et n'a jamais plus de droits que la personne qui l'a créé.</p>
    ${dataTable('Jetons (le secret n\'est jamais réaffiché)', ['Pour', 'Rôle', 'Périmètre', 'Expire le', 'Dernier usage', 'État', 'Action'],
    (data.tokens || []).map((t) => [`${esc(t.actor)}<br><span class="fr-text--xs">${esc(t.name)}</span>`, esc(word(ROLE_LABELS, t.role)), esc(t.scope),
      date(t.expires_at), t.last_used_at ? date(t.last_used_at) : 'jamais', t.revoked ? badge('Révoqué', 'error') : badge('Actif', 'success'),
      t.revoked ? '' : `<button class="fr-btn fr-btn--sm fr-btn--tertiary" type="button" data-revoke="${esc(t.id)}">Révoquer ${esc(t.name || t.actor)}</button>`]))}
    <h2 class="fr-mt-4w">Créer un jeton</h2>
    <form id="new-token" class="pep-form">
      ${isCoord ? `${field('t-actor', 'Pour qui (identifiant)', { name: 'actor', required: true })}
      ${select('t-role', 'Rôle', 'role', [['agent', 'Agent'], ['juror', 'Juré'], ['product_team', 'Équipe produit'], ['coordinator', 'Coordination']])}
      ${field('t-scope', 'Périmètre (startup:<id> pour une équipe produit)', { name: 'scope' })}` : `
      <input type="hidden" name="role" value="product_team">
      ${select('t-scope', 'Start-up', 'scope', teamStartups().map((sid) => ['startup:' + sid, sid]))}`}
      ${field('t-name', 'Description', { name: 'name', required: true })}
      ${field('t-days', 'Durée (jours)', { name: 'days', type: 'number', value: '90', attrs: 'min="1" max="365"' })}
      ${submit('Créer le jeton')}
    </form>
    <div id="secret" role="status"></div>`;
  onSubmit(document.getElementById('new-token'), async (f) => {
    const body = Object.fromEntries(f.entries());
    body.expires_at = new Date(Date.now() + Number(body.days || 90) * 86400000).toISOString();
    delete body.days;
    const r = await api('POST', '/v1/tokens', body);
    document.getElementById('secret').innerHTML = `<div class="fr-alert fr-alert--success fr-mt-2w"><h3 class="fr-alert__title">Jeton créé</h3>
      <p>Jeton « ${esc(r.token.name)} » (à transmettre, il ne sera plus affiché) : <code id="new-secret">${esc(r.secret)}</code></p></div>`;
    toast('Jeton créé');
  });
  main().querySelectorAll('[data-revoke]').forEach((b) => b.addEventListener('click', async () => {
    try {
      await api('DELETE', '/v1/tokens/' + encodeURIComponent(b.dataset.revoke));
      toast('Jeton révoqué');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  }));
}

// Every start-up of the portfolio, for the pickers.
async function allStartups() {
  return (await allPages('/v1/startups?page_size=1000', 'startups')).sort((a, b) => a.name.localeCompare(b.name, 'fr'));
}

// Coordinators: who has signed in, and what each may do. A grant is recorded on the ledger.
async function accounts() {
  const [list, chs, sts] = await Promise.all([api('GET', '/v1/accounts'), api('GET', '/v1/challenges'), allStartups()]);
  const people = list.accounts || [];
  const challengesById = Object.fromEntries((chs.challenges || []).map((c) => [c.id, c.title]));
  const startupsById = Object.fromEntries(sts.map((s) => [s.id, s.name]));
  const scopeLabel = (g) => {
    if (g.scope.startsWith('challenge:')) return ' — défi « ' + (challengesById[g.scope.slice(10)] || g.scope) + ' »';
    if (g.scope.startsWith('startup:')) return ' — ' + (startupsById[g.scope.slice(8)] || g.scope);
    return '';
  };
  main().innerHTML = `
    <h1>Comptes et droits</h1>
    ${dataTable('Personnes connectées au moins une fois (toutes sont agents)', ['Nom', 'Courriel', 'Organisation', 'Droits accordés'],
    people.map((a) => [esc(a.display_name), esc(a.email), esc(a.organisation),
      `<ul>${(a.grants || []).map((g) => `<li>${esc(word(ROLE_LABELS, g.role))}${esc(scopeLabel(g))}
        <button class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline" type="button" data-account="${esc(a.id)}" data-role="${esc(g.role)}" data-scope="${esc(g.scope)}">Retirer</button></li>`).join('') || '<li>aucun</li>'}</ul>`]))}
    <h2 class="fr-mt-4w">Accorder un droit</h2>
    <form id="grant" class="pep-form">
      ${select('g-account', 'Personne', 'account', people.map((a) => [a.id, `${a.display_name} (${a.email})`]))}
      ${select('g-role', 'Droit', 'role', [['juror', "Juré d'un défi"], ['product_team', "Membre de l'équipe d'une start-up"], ['coordinator', "Coordination de l'incubateur"]])}
      ${select('g-challenge', 'Défi (pour un juré)', 'challenge', (chs.challenges || []).map((c) => [c.id, c.title]))}
      ${select('g-startup', "Start-up (pour un membre d'équipe)", 'startup', sts.map((s) => [s.id, s.name]))}
      ${submit('Accorder')}
    </form>`;
  onSubmit(document.getElementById('grant'), async (f) => {
    const role = f.get('role');
    const scope = role === 'juror' ? 'challenge:' + f.get('challenge') : role === 'product_team' ? 'startup:' + f.get('startup') : '';
    await api('POST', `/v1/accounts/${encodeURIComponent(f.get('account'))}/grants`, { role, scope });
    toast('Droit accordé');
    render();
  });
  main().querySelectorAll('[data-account]').forEach((b) => b.addEventListener('click', async () => {
    try {
      await api('DELETE', `/v1/accounts/${encodeURIComponent(b.dataset.account)}/grants?role=${encodeURIComponent(b.dataset.role)}&scope=${encodeURIComponent(b.dataset.scope)}`);
      toast('Droit retiré');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  }));
}

export {
  accounts, allStartups, tokens,
};
