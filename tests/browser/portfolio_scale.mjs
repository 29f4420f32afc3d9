// The portfolio at its real size, in the browser (console.test.mjs calls it as the coordinator):
// 660 generated start-ups imported, then filters, sorting and paging as people use them.
// `h` brings the test's helpers: URL, check, snap.
export async function portfolioAtScale(p, h) {
  const { URL, check, snap } = h;
  return scale(p, URL, check, snap);
}

// The portfolio at its real size (the beta.gouv.fr one has 659 start-ups): 660 generated lines
// in the import format, with every phase, four incubators and two sponsors.
const NOUNS = ['Aide', 'Dossier', 'Guichet', 'Signalement', 'Rendez-vous', 'Carte', 'Démarche', 'Registre',
  'Suivi', 'Portail', 'Bourse', 'Permis', 'Allocation', 'Inscription', 'Déclaration', 'Paiement', 'Contrôle',
  'Réservation', 'Médiation', 'Orientation', 'Accompagnement', 'Subvention'];
const QUALS = ['scolaire', 'sociale', 'des collèges', 'de voirie', 'du handicap', 'des aidants', 'en ligne',
  'des associations', 'agricole', 'culturelle', 'sportive', 'des seniors', 'jeunesse', 'environnementale',
  'des routes', 'du logement', 'numérique', 'de proximité', 'des transports', 'territoriale', 'forestière',
  'portuaire', 'des ports', 'des crèches', 'de santé', 'des musées', 'des archives', 'des déchets', "de l'eau",
  'des énergies'];
const SEQUENCES = [['investigation'], ['investigation'], ['investigation'], ['investigation', 'construction'],
  ['investigation', 'construction'], ['investigation', 'construction', 'acceleration'],
  ['investigation', 'construction', 'acceleration', 'consolidation'],
  ['investigation', 'construction', 'acceleration', 'consolidation', 'transfer'],
  ['investigation', 'construction', 'abandon'], ['investigation', 'abandon-investigation']];
const MONTHS = { investigation: 4, construction: 12, acceleration: 12, consolidation: 12 };
function generatedPortfolio() {
  const out = [];
  for (let i = 0; i < NOUNS.length * QUALS.length; i += 1) {
    const title = `${NOUNS[i % NOUNS.length]} ${QUALS[Math.floor(i / NOUNS.length)]}`;
    const seq = SEQUENCES[i % SEQUENCES.length];
    let t = new Date(Date.UTC(2016 + (i % 5), i % 12, 1));
    const phases = [];
    const events = [];
    seq.forEach((name, n) => {
      const start = t.toISOString().slice(0, 10);
      if (n > 0) events.push({ name: 'committee', date: start, comment: 'Comité' });
      const next = new Date(t);
      next.setUTCMonth(next.getUTCMonth() + (MONTHS[name] || 0));
      phases.push(n === seq.length - 1 ? { name, start } : { name, start, end: next.toISOString().slice(0, 10) });
      t = next;
    });
    if (seq.length > 2) events.push({ name: 'product_launch', date: phases[1].start });
    out.push({ slug: `sp-${String(i).padStart(3, '0')}`, title, mission: `Rendre ${title.toLowerCase()} plus simple pour les usagers.`,
      incubator: ['lab06', 'dinum', 'fabrique-sociale', 'lab-ecologie'][i % 4], sponsors: [i % 3 ? 'cd06' : 'dinum'],
      phases, events, phase: seq[seq.length - 1] });
  }
  return out;
}
const fold = (v) => v.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
const caption = async (p) => (await p.locator('#portfolio-table caption').textContent()).trim().replace(/\s+/g, ' ');
const firstRow = async (p) => (await p.locator('#portfolio-table tbody tr td:first-child a').first().textContent()).trim();

async function scale(p, URL, check, snap) {
  const lines = generatedPortfolio();
  const report = await p.evaluate(async (body) => {
    const r = await fetch('/v1/imports/portfolio', { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-ndjson' }, body });
    return r.json();
  }, lines.map((l) => JSON.stringify(l)).join('\n'));
  check(report.created === lines.length && !report.rejected, `660 start-ups imported (${JSON.stringify({ created: report.created, rejected: report.rejected })})`);
  const total = lines.length + 1;  // and the story's own start-up

  // Keyboard only: the skip link, then the search field, a word, Enter.
  await p.goto(URL + '/portefeuille');
  await p.locator('#portfolio-table').waitFor();
  check((await caption(p)) === `Start-ups 1 à 50 sur ${total}`, `the first page of ${total}: ${await caption(p)}`);
  check(await p.locator('#portfolio-table tbody tr').count() === 50, 'a page is 50 rows, not the whole portfolio');
  await snap(p, 'portefeuille-660');
  await p.keyboard.press('Tab');
  check(await p.evaluate(() => document.activeElement?.textContent === 'Aller au contenu'), 'the first Tab reaches the skip link');
  await p.keyboard.press('Enter');
  await p.keyboard.press('Tab');
  check(await p.evaluate(() => document.activeElement?.id === 'f-q'), 'after the skip link, Tab reaches the search field');
  // Focus visible: DSFR's ring (2px solid outline) on the field the keyboard reached.
  const ring = await p.evaluate(() => { const c = getComputedStyle(document.activeElement); return [c.outlineStyle, parseFloat(c.outlineWidth)]; });
  check(ring[0] === 'solid' && ring[1] >= 2, `the focused field shows its focus (outline ${ring.join(' ')}px)`);
  await p.keyboard.type('voirie');
  await p.keyboard.press('Enter');
  await p.waitForURL(/q=voirie/);
  const voirie = lines.filter((l) => fold(l.title + ' ' + l.mission).includes('voirie')).length;
  await p.locator('#portfolio-table caption', { hasText: new RegExp(`sur ${voirie}(?!\\d)`) }).waitFor();
  check(voirie === 22, `a search finds its ${voirie} start-ups (${await caption(p)})`);

  // Case and accents do not matter, and every word must match.
  await p.goto(URL + '/portefeuille?q=DEMARCHE+scolaire');
  await p.locator('#portfolio-table caption', { hasText: /sur 1(?!\d)/ }).waitFor();
  check((await firstRow(p)) === 'Démarche scolaire', 'DEMARCHE scolaire finds « Démarche scolaire » alone');

  // A phase filter, from the form; the URL carries it, so the view can be shared.
  await p.goto(URL + '/portefeuille');
  await p.getByLabel('Phase', { exact: true }).selectOption('PHASE_ACCELERATION');
  await p.getByRole('button', { name: 'Appliquer les filtres' }).click();
  await p.waitForURL(/phase=PHASE_ACCELERATION/);
  const accel = lines.filter((l) => l.phase === 'acceleration').length;
  // Not a substring of the unfiltered « sur 664 », still on screen while the filtered page loads.
  await p.locator('#portfolio-table caption', { hasText: new RegExp(`sur ${accel}(?!\\d)`) }).waitFor();
  const phases = await p.locator('#portfolio-table tbody tr td:nth-child(2)').allTextContents();
  check(phases.length === Math.min(50, accel) && phases.every((t) => t.trim() === 'Accélération'), `the ${accel} in acceleration, and only them (${phases.length} on this page: ${[...new Set(phases.map((t) => t.trim()))].join(', ')})`);
  const shared = await p.context().newPage();
  await shared.goto(p.url());
  await shared.locator('#portfolio-table caption', { hasText: `sur ${accel}` }).waitFor();
  check((await shared.getByLabel('Phase', { exact: true }).inputValue()) === 'PHASE_ACCELERATION', 'the shared URL opens the same view, filter shown');
  await shared.close();

  // Sorted by name, descending (French order: accents folded), then the next page.
  await p.goto(URL + '/portefeuille?tri=name&ordre=desc');
  const names = [...lines.map((l) => l.title), 'Dossier unique'].sort((a, b) => (fold(a) < fold(b) ? 1 : fold(a) > fold(b) ? -1 : 0));
  await p.locator('#portfolio-table').waitFor();
  check((await firstRow(p)) === names[0], `sorted by name descending, ${names[0]} first (${await firstRow(p)})`);
  await p.getByRole('link', { name: 'Page suivante' }).first().click();
  await p.waitForURL(/page=2/);
  await p.locator('#portfolio-table caption', { hasText: `51 à 100 sur ${total}` }).waitFor();
  check((await firstRow(p)) === names[50], `page 2 begins with the 51st (${names[50]})`);
  const chart = await p.locator('#phase-counts tbody').textContent();
  check(chart.includes('Transférée') && chart.includes('Abandonnée (investigation)'), 'phase counts in French, every phase');
  check(await p.locator('#chart-phases bar-chart').count() === 1, 'the phase counts are drawn (DSFR Chart)');
  await snap(p, 'portefeuille-page-2');

  // A transferred start-up: its phases drawn, no committee, no phase change offered.
  await p.goto(URL + '/portefeuille?q=registre+scolaire');
  await p.locator('#portfolio-table').getByRole('link', { name: 'Registre scolaire' }).click();
  await p.getByRole('heading', { name: 'Start-up : Registre scolaire' }).waitFor();
  check(await p.locator('#phase-picture svg rect.pep-phase').count() === 5, 'the phase picture has its five periods');
  check(await p.locator('#phase-picture svg .pep-mark-decision').count() === 4, 'and the four committees');
  check(await p.getByRole('button', { name: 'Enregistrer le comité et changer de phase' }).count() === 0,
    'a transferred start-up offers no phase change');
  await p.getByText('est une phase terminale').waitFor();
  await snap(p, 'startup-transferee');

  // One in investigation: only the two legal next phases (and "none", for an extension).
  await p.goto(URL + '/portefeuille?q=aide+scolaire');
  await p.locator('#portfolio-table').getByRole('link', { name: 'Aide scolaire' }).click();
  await p.getByRole('heading', { name: 'Start-up : Aide scolaire' }).waitFor();
  const options = await p.getByLabel('Nouvelle phase').locator('option').allTextContents();
  check(JSON.stringify(options.slice(0, 2)) === JSON.stringify(['Construction', 'Abandonnée (investigation)']) && options.length === 3,
    `from investigation, only its next phases: ${options.join(' | ')}`);
  check(await p.getByText('En retard', { exact: true }).count() > 0, 'an investigation begun years ago is overdue, and says so');
  await snap(p, 'startup-investigation');

  // An error from the API is shown on the field it names.
  await p.getByLabel('Participants (séparés par des virgules)').fill(' , ');
  await p.getByLabel('Motif').fill('Problème confirmé');
  await p.getByLabel('Décision du comité').selectOption('COMMITTEE_OUTCOME_GO');
  await p.getByRole('button', { name: 'Enregistrer le comité et changer de phase' }).click();
  await p.locator('[data-field="participants"].fr-input-group--error .fr-error-text', { hasText: 'participants:' }).waitFor();
  check(await p.locator('.form-error .fr-alert--error').count() === 1, 'the error is a DSFR alert, and marks the Participants field');
  check((await p.locator('#phase').textContent()) === 'Investigation', 'and nothing changed');
  await snap(p, 'erreur-champ');
}
