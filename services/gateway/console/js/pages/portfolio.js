// The portfolio: a table paged, sorted and filtered by pep-incubation; the filters in the URL.
import { api, download } from '../api.js';
import { main } from '../session.js';
import { barChart, dataTable, date, esc, field, go, int, onSubmit, pagination, phaseBadge, select } from '../ui.js';
import { PHASES, SORTS, TEAM_SIGNALS, overdueWords, teamSignalWords } from '../words.js';

const PAGE_SIZE = 50;

async function portfolio() {
  const q = new URLSearchParams(location.search);
  const page = Math.max(1, parseInt(q.get('page') || '1', 10) || 1);
  const order = q.get('tri') || 'name';
  const desc = q.get('ordre') === 'desc';
  const api_q = new URLSearchParams({ page_size: String(PAGE_SIZE), skip: String((page - 1) * PAGE_SIZE),
    order_by: order + (desc ? ' desc' : '') });
  if (q.get('q')) api_q.set('query', q.get('q'));
  if (q.get('phase')) api_q.set('phase', q.get('phase'));
  if (q.get('incubateur')) api_q.set('incubator', q.get('incubateur'));
  if (q.get('sponsor')) api_q.set('sponsor', q.get('sponsor'));
  if (q.get('retard') === '1') api_q.set('overdue_only', 'true');
  if (TEAM_SIGNALS[q.get('signal')]) api_q.set('team_signal', q.get('signal'));
  const statsQ = q.get('incubateur') ? '?incubator=' + encodeURIComponent(q.get('incubateur')) : '';
  const [list, stats, overdue] = await Promise.all([
    api('GET', '/v1/startups?' + api_q),
    api('GET', '/v1/portfolio/stats' + statsQ),
    api('GET', '/v1/startups?overdue_only=true&order_by=phase_since&page_size=20' + (q.get('incubateur') ? '&incubator=' + encodeURIComponent(q.get('incubateur')) : '')),
  ]);
  const startups = list.startups || [];
  const total = list.total_size || 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const href = (changes) => {
    const n = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) { if (v === '' || v === null) n.delete(k); else n.set(k, v); }
    const s = n.toString();
    return '/portefeuille' + (s ? '?' + s : '');
  };
  const sortHeader = (key, label) => {
    const active = order === key;
    const next = active && !desc ? 'desc' : '';
    return `<th scope="col" ${active ? `aria-sort="${desc ? 'descending' : 'ascending'}"` : ''}>
      <a href="${esc(href({ tri: key, ordre: next, page: '' }))}" title="Trier par ${esc(label.toLowerCase())}">${esc(label)}${active ? (desc ? ' ↓' : ' ↑') : ''}</a></th>`;
  };
  const byPhase = stats.startups_by_phase || {};
  const phaseKeys = Object.keys(PHASES).filter((p) => byPhase[p.slice(6)] !== undefined);
  const years = stats.transitions_per_year || [];
  const first = (page - 1) * PAGE_SIZE;
  main().innerHTML = `
    <h1>Portefeuille</h1>
    <p id="portfolio-count">${int(stats.total)} start-up${stats.total > 1 ? 's' : ''} dans le portefeuille${q.get('incubateur') ? ' de ' + esc(q.get('incubateur')) : ''},
      dont ${int(stats.overdue)} en retard.</p>
    <form id="filters" class="pep-filters" role="search" aria-label="Filtrer le portefeuille">
      <div class="fr-search-bar" id="search-portfolio">
        <label class="fr-label" for="f-q">Rechercher (nom, mission, identifiant)</label>
        <input class="fr-input" type="search" id="f-q" name="q" value="${esc(q.get('q') || '')}" placeholder="Rechercher (nom, mission, identifiant)">
        <button class="fr-btn" type="submit" title="Rechercher">Rechercher</button>
      </div>
      <div class="pep-filter-row">
        ${select('f-phase', 'Phase', 'phase', [['', 'Toutes les phases'], ...Object.entries(PHASES)], { selected: q.get('phase') || '' })}
        ${field('f-incubator', 'Incubateur', { name: 'incubateur', value: q.get('incubateur') || '' })}
        ${field('f-sponsor', 'Administration porteuse', { name: 'sponsor', value: q.get('sponsor') || '' })}
        <div class="fr-fieldset__element"><div class="fr-checkbox-group">
          <input type="checkbox" id="f-overdue" name="retard" value="1"${q.get('retard') === '1' ? ' checked' : ''}>
          <label class="fr-label" for="f-overdue">En retard seulement</label></div></div>
        ${select('f-signal', 'Signal sur l’équipe', 'signal', [['', 'Tous'], ...Object.entries(TEAM_SIGNALS)], { selected: q.get('signal') || '' })}
        ${select('f-sort', 'Trier par', 'tri', Object.entries(SORTS), { selected: order })}
        ${select('f-order', 'Ordre', 'ordre', [['', 'Croissant'], ['desc', 'Décroissant']], { selected: desc ? 'desc' : '' })}
      </div>
      <ul class="fr-btns-group fr-btns-group--inline-sm">
        <li><button class="fr-btn" type="submit">Appliquer les filtres</button></li>
        <li><a class="fr-btn fr-btn--tertiary" href="/portefeuille">Effacer les filtres</a></li>
      </ul>
    </form>
    <div class="fr-table fr-table--sm" id="portfolio-table"><div class="fr-table__wrapper"><div class="fr-table__container"><div class="fr-table__content">
      <table><caption>Start-ups ${total ? `${int(first + 1)} à ${int(first + startups.length)} sur ${int(total)}` : ': aucune ne correspond aux filtres'}</caption>
      <thead><tr>${sortHeader('name', 'Nom')}${sortHeader('phase', 'Phase')}${sortHeader('incubator', 'Incubateur')}
        <th scope="col">Administrations porteuses</th>${sortHeader('phase_since', 'Dans la phase depuis')}${sortHeader('last_milestone_at', 'Dernier jalon')}<th scope="col">Alerte</th></tr></thead>
      <tbody>${startups.map((s) => {
    const since = (s.phases || []).length ? s.phases[s.phases.length - 1].start : '';
    return `<tr><td><a href="/startups/${esc(s.id)}">${esc(s.name)}</a><br><span class="fr-text--xs">${esc(s.slug)}</span></td>
          <td>${phaseBadge(s.phase)}</td><td>${esc(s.incubator)}</td><td>${esc((s.sponsors || []).join(', '))}</td>
          <td>${date(since)}</td><td>${date(s.last_milestone_at) || '—'}</td>
          <td>${s.overdue ? `<p class="fr-badge fr-badge--sm fr-badge--warning" title="${esc((s.overdue_reasons || []).map(overdueWords).join(' ; '))}">En retard</p>` : ''}
            ${(s.team_signals || []).length ? `<p class="fr-badge fr-badge--sm fr-badge--info" title="${esc(s.team_signals.map((g) => teamSignalWords(g, s.team)).join(' ; '))}">Équipe : ${s.team_signals.length} ${s.team_signals.length > 1 ? 'signaux' : 'signal'}</p>` : ''}</td></tr>`;
  }).join('') || '<tr><td colspan="7">Aucune start-up ne correspond à ces filtres.</td></tr>'}</tbody></table>
    </div></div></div></div>
    ${pagination(page, pages, (p) => href({ page: p === 1 ? '' : String(p) }))}
    <div class="fr-grid-row fr-grid-row--gutters fr-mt-4w">
      <div class="fr-col-12 fr-col-md-6">
        <h2 class="fr-h4">Start-ups par phase</h2>
        <figure class="pep-chart" id="chart-phases" aria-label="Nombre de start-ups par phase">
          ${barChart(phaseKeys.map((p) => PHASES[p]), phaseKeys.map((p) => byPhase[p.slice(6)]), 'Start-ups')}</figure>
        ${dataTable('Start-ups par phase', ['Phase', 'Start-ups'], phaseKeys.map((p) => [
    `<a href="${esc(href({ phase: p, page: '' }))}">${esc(PHASES[p])}</a>`, int(byPhase[p.slice(6)])]), 'phase-counts')}
      </div>
      <div class="fr-col-12 fr-col-md-6">
        <h2 class="fr-h4">Changements de phase par année</h2>
        <figure class="pep-chart" id="chart-years" aria-label="Changements de phase par année">
          ${barChart(years.map((y) => String(y.year)), years.map((y) => y.transitions), 'Changements de phase')}</figure>
        ${dataTable('Changements de phase par année', ['Année', 'Changements'], years.map((y) => [esc(String(y.year)), int(y.transitions)]))}
      </div>
    </div>
    <h2 class="fr-h4 fr-mt-4w">Signaux faibles sur les équipes</h2>
    ${dataTable('Start-ups par signal sur l’équipe (start-ups en cours)', ['Signal', 'Start-ups'], Object.entries(TEAM_SIGNALS).map(([code, words]) => [
    `<a href="${esc(href({ signal: code, page: '' }))}">${esc(words)}</a>`, int((stats.team_signals || {})[code] || 0)]), 'team-signals')}
    <h2 class="fr-h4 fr-mt-4w">En retard</h2>
    ${dataTable(`Start-ups en retard (${int(stats.overdue)}), les plus anciennes dans leur phase d'abord`, ['Start-up', 'Phase', 'Raisons'],
    (overdue.startups || []).map((s) => [`<a href="/startups/${esc(s.id)}">${esc(s.name)}</a>`, phaseBadge(s.phase),
      `<ul>${(s.overdue_reasons || []).map((r) => `<li>${esc(overdueWords(r))}</li>`).join('')}</ul>`]), 'overdue')}
    ${stats.overdue > 20 ? `<p><a href="${esc(href({ retard: '1', page: '' }))}">Voir les ${int(stats.overdue)} start-ups en retard</a></p>` : ''}
    <h2 class="fr-mt-4w">Budget</h2>
    <p>Pour le service financier : par start-up, année et nature de ressource, les engagements (AE) et les paiements (CP),
      et les enveloppes accordées par les comités, avec leur total.</p>
    <button class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left" type="button" id="export-budget">Exporter le budget (CSV)</button>
    <div id="budget-status" role="status"></div>`;
  document.getElementById('export-budget').addEventListener('click', () =>
    download('/v1/budget.csv', 'budget.csv', document.getElementById('budget-status')));
  onSubmit(document.getElementById('filters'), async (f) => {
    const n = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) n.set(k, v);
    if (n.get('tri') === 'name') n.delete('tri');
    go('/portefeuille' + (n.toString() ? '?' + n : ''));
  });
}

export {
  PAGE_SIZE, portfolio,
};
