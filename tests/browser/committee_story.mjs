// The committee story (issue 31), in the browser: Léa defines her start-up's indicator and her
// team's CI pushes measures with pepctl; Claire schedules a committee with it on the agenda; Léa
// files the team's ask with two success criteria; Claire issues the pre-read, which judges the
// criteria against the measures, and has it made again from the ledger (identical); the
// committee's decision grants an envelope and an objective; six months later (pep-incubation's
// clock moved ahead through PEP_CLOCK_FILE) « comité dû » shows, and the pre-read made again from
// the ledger is still byte for byte the one issued.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const day = (ms) => new Date(ms).toISOString().slice(0, 10);
const fr = (ms) => new Date(ms).toLocaleDateString('fr-FR', { timeZone: 'UTC' });

// Clicks « Refaire à partir du registre et comparer » until the ledger has the pre-read.
async function checkAgainstLedger(p, check, what) {
  const deadline = Date.now() + 60000;
  while (true) {
    await p.getByRole('button', { name: 'Refaire à partir du registre et comparer' }).click();
    await p.locator('#ledger-check .fr-alert').waitFor();
    const text = await p.locator('#ledger-check').textContent();
    if (text.includes('Identique au registre')) {
      check(text.includes(await p.locator('#preread-hash').textContent()), `${what}: the ledger's hash is the one recorded`);
      return;
    }
    if (!text.includes('Pas encore vérifiable') || Date.now() > deadline) throw new Error(`${what}: ${text}`);
    await p.waitForTimeout(1000);
  }
}

async function committeeStory({ page, lea, URL, check, snap, startupUrl, startupId }) {
  const now = Date.now();
  // Léa's indicator, in the console.
  await lea.goto(startupUrl);
  await lea.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
  await lea.locator('#k-id').fill('dossiers');
  await lea.locator('#k-name').fill('Dossiers déposés en ligne');
  await lea.locator('#k-unit').fill('dossiers');
  await lea.locator('#k-target').fill('500');
  await lea.locator('#k-target-date').fill(day(now + 150 * 86400000));
  await lea.locator('label[for="k-north"]').click();
  await lea.getByRole('button', { name: "Définir l'indicateur" }).click();
  await lea.locator('#kpi-dossiers').waitFor();

  // Her team's CI pushes two measures with a token she made.
  const token = await lea.evaluate(async (id) => {
    const r = await fetch('/v1/tokens', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'product_team', scope: 'startup:' + id, name: 'CI de Dossier unique', actor: 'ci-dossier-unique' }) });
    return (await r.json()).secret;
  }, startupId);
  for (const [value, at] of [[120, now - 40 * 86400000], [340, now - 3 * 86400000]]) {
    const out = spawnSync(process.env.PEPCTL, ['kpi', 'push', '--startup', startupId, '--kpi', 'dossiers', '--value', String(value), '--date', day(at)],
      { env: { ...process.env, PEP_URL: URL, PEP_TOKEN: token }, encoding: 'utf8' });
    check(out.status === 0 && out.stdout.includes('measure of dossiers recorded'), `pepctl kpi push ${value}: ${out.stdout}${out.stderr}`);
  }
  await lea.reload();
  const kpi = lea.locator('#kpi-dossiers');
  await kpi.waitFor();
  check((await kpi.textContent()).includes('écart 160 dossiers'), 'the distance to the target, from the measures CI pushed');
  check(await kpi.locator('circle').count() === 2, 'the chart has the two measures');
  await snap(lea, 'startup-indicateur');

  // Her team (issue 31): without a coach, the page says so; a coach joins, a contractor whose
  // mission ends in ten days — that is the signal now; she moves the mission's end by two months
  // and the signal goes.
  const signals = lea.locator('#team-signals');
  await signals.filter({ hasText: 'aucun coach dans l’équipe' }).waitFor();
  await lea.locator('#t-name').fill('Marc Petit');
  await lea.locator('#t-kind').selectOption('TEAM_ROLE_COACH');
  await lea.locator('#t-status').selectOption('MEMBER_STATUS_CONTRACTOR');
  await lea.locator('#t-mission-end').fill(day(now + 10 * 86400000));
  await lea.getByRole('button', { name: 'Ajouter à l’équipe' }).click();
  const ending = `la mission de Marc Petit finit le ${fr(Date.parse(day(now + 10 * 86400000)))}`;
  await signals.filter({ hasText: ending }).waitFor();
  check(!(await signals.textContent()).includes('aucun coach'), 'a coach on the team: no « aucun coach » signal');
  const marc = lea.locator('#team-members li', { hasText: 'Marc Petit' });
  check((await marc.textContent()).includes('(Coach, Prestataire)'), 'the member shows his role and status in French');
  await snap(lea, 'startup-equipe-signal');
  await marc.getByText('Modifier Marc Petit').click();
  await marc.locator('input[name="mission_end"]').fill(day(now + 70 * 86400000));
  await marc.getByRole('button', { name: 'Enregistrer' }).click();
  await lea.locator('#team-members li', { hasText: `mission jusqu’au ${fr(Date.parse(day(now + 70 * 86400000)))}` }).waitFor();
  check(await lea.locator('#team-signals', { hasText: 'Marc Petit' }).count() === 0, 'the mission moved on: no signal about it');

  // Claire schedules the committee, Dossier unique on its agenda.
  await page.goto(URL + '/comites');
  await page.getByRole('heading', { name: "Comités d'investissement" }).waitFor();
  await page.locator('#c-title').fill("Comité d'investissement de l'hiver");
  await page.locator('#c-invitees').fill('DGS\nDirectrice de l’innovation');
  await page.locator('#c-startup').fill('Dossier unique');
  await page.getByRole('button', { name: "Ajouter à l'ordre du jour" }).click();
  await page.locator('#c-agenda', { hasText: 'Dossier unique' }).waitFor();
  await page.getByRole('button', { name: 'Programmer le comité' }).click();
  await page.getByRole('heading', { name: /Comité d'investissement de l'hiver/ }).waitFor();
  const meetingUrl = page.url();
  await snap(page, 'comite');

  // Léa files the team's ask with two success criteria.
  await lea.getByRole('link', { name: 'Comités' }).click();
  await lea.getByRole('link', { name: "Comité d'investissement de l'hiver" }).click();
  await lea.getByRole('heading', { name: 'La demande de Dossier unique' }).waitFor();
  await lea.locator('#a-team').fill('Une développeuse, un designer, une intrapreneure à mi-temps');
  await lea.locator('#a-envelope').fill('150000');
  await lea.locator('#a-hypotheses').fill('Les familles déposent leur dossier sans se déplacer\nLes agents instruisent plus vite');
  await lea.locator('#a-kpi-0').selectOption('dossiers');
  await lea.locator('#a-target-0').fill('800');
  await lea.locator('#a-by-0').fill(day(now + 180 * 86400000));
  await lea.locator('#a-text-1').fill('Une commune pilote de plus chaque mois');
  await lea.getByRole('button', { name: 'Déposer la demande' }).click();
  await lea.locator('#agenda', { hasText: 'déposée le' }).waitFor();
  await snap(lea, 'comite-demande');

  // Claire issues the pre-read; it judges the criteria against the measures.
  await page.goto(meetingUrl);
  await page.getByRole('button', { name: 'Établir la pré-lecture' }).click();
  await page.locator('#preread').waitFor();
  const doc = await page.locator('#preread').textContent();
  check(doc.includes('Pré-lecture — Dossier unique'), 'the pre-read names the start-up');
  check(doc.includes(`Dossiers déposés en ligne : cible 800 dossiers au ${fr(now + 180 * 86400000)} — mesuré 340 dossiers le ${fr(now - 3 * 86400000)} — en cours (écart 460 dossiers)`),
    'the criterion is judged against the measure pushed by CI');
  check(doc.includes('Enveloppe demandée : 150\u202f000 €') && doc.includes('Une commune pilote de plus chaque mois'), "the team's ask is in it");
  await snap(page, 'prelecture');
  await checkAgainstLedger(page, check, 'the pre-read, issued');
  const prereadUrl = page.url();

  // The committee grants an envelope and an objective; its review is six months on by default.
  await page.goto(startupUrl);
  await page.getByLabel('Décision du comité').selectOption('COMMITTEE_OUTCOME_EXTEND');
  await page.locator('#k-rationale').fill('Usage en hausse, à confirmer sur deux communes');
  await page.getByLabel('Nouvelle phase').selectOption('');
  await page.getByLabel('Réunion du comité').selectOption({ index: 1 });  // the one meeting it is on
  await page.locator('#k-envelope').fill('150000');
  await page.locator('#k-okpi-0').selectOption('dossiers');
  await page.locator('#k-otarget-0').fill('800');
  await page.locator('#k-oby-0').fill(day(now + 180 * 86400000));
  await page.getByRole('button', { name: 'Enregistrer le comité et changer de phase' }).click();
  await page.getByText('Décision du comité enregistrée').waitFor();
  check(!(await page.locator('main').textContent()).includes('comité dû depuis le'), 'no committee is due yet');

  // Six months later.
  fs.writeFileSync(process.env.PEP_CLOCK_FILE, '4500h\n');
  try {
    const deadline = Date.now() + 15000;
    while (!(await page.locator('main').textContent()).includes('comité dû depuis le')) {
      if (Date.now() > deadline) throw new Error('« comité dû » never showed six months later');
      await page.waitForTimeout(1000);
      await page.reload();
      await page.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
    }
    check(true, '« comité dû » shows six months after the committee');
    await snap(page, 'startup-comite-du');
    await page.goto(prereadUrl);
    await page.locator('#preread').waitFor();
    check((await page.locator('#preread').textContent()) === doc, 'the pre-read as issued, six months later');
    await checkAgainstLedger(page, check, 'the pre-read made again from the ledger six months later');
  } finally {
    fs.writeFileSync(process.env.PEP_CLOCK_FILE, '0s\n');
  }
  await page.goto(startupUrl);  // where the story found Claire
  await page.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
}

export { committeeStory };
