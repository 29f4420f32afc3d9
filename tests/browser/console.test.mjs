// The web console in a real browser (Debian's chromium, headless, driven by playwright-core):
// a coordinator signs in, makes tokens, creates and opens a challenge; an agent submits two
// ideas; a juror scores one; the coordinator selects it; the start-up appears in the portfolio;
// a committee moves it to construction; the product team pushes a milestone and sees it on the
// timeline; a member of the public gives feedback and the summary moves.
// Env: PEP_URL (gateway), PEP_TOKEN (a coordinator token), ARTIFACT_DIR (screenshots).
// Exit 0 when every step held; otherwise the failing step and a screenshot of it.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const URL = process.env.PEP_URL;
const COORDINATOR = process.env.PEP_TOKEN;
const ARTIFACTS = process.env.ARTIFACT_DIR || 'browser-artifacts';
fs.mkdirSync(ARTIFACTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
    '--disable-default-apps', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
let shot = 0;
let page;

async function snap(p, name) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await p.screenshot({ path: file, fullPage: true });
  console.log('screenshot', file);
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok -', what);
}

// Reloads until `probe` holds (the pipeline is asynchronous: Kafka, consumers, the ledger).
async function eventually(p, probe, what, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await p.waitForTimeout(500);
    await p.reload();
    await p.waitForLoadState('networkidle');
  }
  throw new Error('never happened: ' + what);
}

async function signIn(p, token) {
  await p.goto(URL + '/');
  await p.evaluate(() => sessionStorage.clear());  // whoever was signed in in this tab
  await p.goto(URL + '/');
  await p.getByLabel("Jeton d'accès").fill(token);
  await p.getByRole('button', { name: 'Se connecter' }).click();
  await p.getByRole('button', { name: 'Se déconnecter' }).waitFor();
}

async function newToken(p, actor, role, scope = '') {
  await p.goto(URL + '/jetons');
  await p.getByLabel('Pour qui (identifiant)').fill(actor);
  await p.getByLabel('Rôle').selectOption(role);
  await p.getByLabel(/Périmètre/).fill(scope);
  await p.getByLabel('Description').fill('test navigateur');
  await p.getByRole('button', { name: 'Créer le jeton' }).click();
  const secret = (await p.locator('#new-secret').textContent()).trim();
  check(secret.startsWith('pep_'), `a ${role} token for ${actor} is shown once`);
  return secret;
}

try {
  const context = await browser.newContext({ locale: 'fr-FR', acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });

  // --- sign in, accessible basics ---
  await page.goto(URL + '/');
  check(await page.getAttribute('html', 'lang') === 'fr', 'the page says it is French');
  let tabs = 0;
  while (tabs < 5 && !(await page.evaluate(() => document.activeElement?.id === 'token'))) {
    await page.keyboard.press('Tab');
    tabs += 1;
  }
  check(await page.evaluate(() => document.activeElement?.id === 'token'),
    `the token field is reachable with the keyboard (${tabs} tabs, after the skip link and home)`);
  await snap(page, 'connexion');
  await page.getByLabel("Jeton d'accès").fill('pep_wrong');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByText(/Erreur : unknown token/).first().waitFor();
  await signIn(page, COORDINATOR);
  await page.getByRole('heading', { name: 'Défis' }).waitFor();
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input,select,textarea')]
    .filter((e) => e.type !== 'radio' && !(e.id && document.querySelector(`label[for="${e.id}"]`))).length);
  check(unlabeled === 0, 'every field has a label');

  // --- tokens for the people of the story ---
  const agent = await newToken(page, 'agent-camille', 'agent');
  const juror = await newToken(page, 'juror-a', 'juror');
  await snap(page, 'jetons');

  // --- a challenge, opened, with its jury ---
  await page.goto(URL + '/defis');
  await page.getByLabel('Titre du défi').fill('Simplification administrative');
  await page.getByLabel('Quorum du jury').fill('1');
  await page.getByRole('button', { name: 'Créer le défi' }).click();
  await page.getByRole('heading', { name: 'Défi : Simplification administrative' }).waitFor();
  const challengeUrl = page.url();
  await page.getByRole('button', { name: 'Ouvrir le défi' }).click();
  await page.getByText('Statut : Ouvert').waitFor();
  await page.getByLabel(/Ajouter des jurés/).fill('juror-a');
  await page.getByRole('button', { name: 'Désigner les jurés' }).click();
  await page.getByText(/jurés : juror-a/).waitFor();
  await snap(page, 'defi-ouvert');

  // --- an agent submits two ideas ---
  await signIn(page, agent);
  await page.goto(challengeUrl);
  for (const [title, problem] of [
    ['Dossier unique', 'Les usagers remplissent trois formulaires pour la même aide.'],
    ['Rendez-vous en ligne', 'Il faut téléphoner aux heures de bureau pour un rendez-vous.'],
  ]) {
    await page.getByLabel("Titre de l'idée").fill(title);
    await page.getByLabel('Problème constaté').fill(problem);
    await page.getByLabel('Proposition').fill('Un service en ligne, pré-rempli.');
    await page.getByLabel('Votre nom').fill('Camille Martin');
    await page.getByLabel('Direction ou service').fill("Direction de l'action sociale");
    await page.getByLabel('Courriel professionnel').fill('camille.martin@departement06.fr');
    await page.getByRole('button', { name: "Déposer l'idée" }).click();
    await page.getByRole('link', { name: title }).waitFor();
  }
  check(await page.getByRole('region', { name: 'Déposées' }).getByRole('listitem').count() === 2,
    'two ideas in the "Déposées" column');
  await snap(page, 'idees-deposees');

  // --- a juror scores the first ---
  await signIn(page, juror);
  await page.goto(challengeUrl);
  await page.getByRole('link', { name: 'Dossier unique' }).first().click();
  await page.getByRole('heading', { name: 'Idée : Dossier unique' }).waitFor();
  const ideaUrl = page.url();
  await page.getByLabel('Note « impact » (0 à 5)').fill('5');
  await page.getByLabel('Note « faisabilité » (0 à 5)').fill('4');
  await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
  await page.getByRole('cell', { name: '4,50' }).waitFor();
  await snap(page, 'evaluation');

  // --- the coordinator shortlists, then selects it ---
  await signIn(page, COORDINATOR);
  await page.goto(challengeUrl);
  await page.getByRole('table', { name: /Classement/ }).getByRole('cell', { name: '4,50' }).waitFor();
  await page.goto(ideaUrl);
  for (const [option, status] of [['IDEA_STATUS_SHORTLISTED', 'Présélectionnée'],
    ['IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION', 'Retenue']]) {
    await page.getByLabel('Décision').selectOption(option);
    await page.getByLabel('Motif').fill('Fort impact pour les usagers');
    await page.getByRole('button', { name: 'Enregistrer la décision' }).click();
    await page.getByText(`Statut : ${status}`).waitFor();
  }
  await snap(page, 'idee-retenue');

  // --- the start-up appears in the portfolio ---
  await page.goto(URL + '/portefeuille');
  await eventually(page, async () => await page.getByRole('link', { name: 'Dossier unique' }).count() > 0,
    'the selected idea becomes a start-up in the portfolio');
  await snap(page, 'portefeuille');
  await page.getByRole('link', { name: 'Dossier unique' }).click();
  await page.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
  const startupUrl = page.url();
  const startupId = startupUrl.split('/').pop();
  check((await page.locator('#phase').textContent()) === 'Investigation', 'it starts in investigation');

  // --- a committee moves it to construction ---
  await page.getByLabel('Décision du comité').selectOption('COMMITTEE_OUTCOME_GO');
  await page.getByLabel('Motif').fill('Problème confirmé auprès de 12 usagers');
  await page.getByLabel('Nouvelle phase').selectOption('PHASE_CONSTRUCTION');
  await page.getByRole('button', { name: 'Enregistrer le comité et changer de phase' }).click();
  await page.locator('#phase', { hasText: 'Construction' }).waitFor();
  const before = (await page.locator('#feedback-summary').textContent()).trim();

  // --- the product team pushes a milestone and sees it on the timeline ---
  const team = await newToken(page, 'equipe-dossier-unique', 'product_team', 'startup:' + startupId);
  await signIn(page, team);
  await page.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
  check(!(await page.getByRole('link', { name: 'Portefeuille' }).isVisible()),
    'a product team is not offered pages it may not read');
  await page.getByLabel('Titre du jalon').fill('Mise en production');
  await page.getByRole('button', { name: 'Publier le jalon' }).click();
  await page.locator('#milestones', { hasText: 'Mise en production' }).waitFor();
  await eventually(page, async () => (await page.locator('#timeline').textContent()).includes('Jalon : Mise en production'),
    'the milestone reaches the audit timeline');
  check((await page.locator('#timeline').textContent()).includes('Passage en construction'),
    'the timeline shows the phase change');
  await snap(page, 'startup-jalon');

  // --- the public gives feedback; the summary moves ---
  const publicContext = await browser.newContext({ locale: 'fr-FR' });
  const citizen = await publicContext.newPage();
  await citizen.goto(`${URL}/avis/${startupId}`);
  await snap(citizen, 'avis-formulaire');
  const deadline = Date.now() + 60000;
  while (true) {  // until pep-feedback has learned that the product is in construction
    await citizen.getByLabel('Bien').check();
    await citizen.getByLabel(/Recommanderiez-vous/).fill('9');
    await citizen.getByLabel(/Votre message/).fill('Très simple, bravo. Écrivez-moi : camille@exemple.fr');
    await citizen.getByRole('button', { name: 'Envoyer mon avis' }).click();
    const done = await citizen.locator('#thanks').waitFor({ timeout: 2000 }).then(() => true, () => false);
    if (done) break;
    if (Date.now() > deadline) throw new Error('feedback never accepted');
    await citizen.reload();
  }
  await snap(citizen, 'avis-merci');
  await page.goto(startupUrl);
  await eventually(page, async () => (await page.locator('#feedback-summary').textContent()).trim() !== before,
    'the feedback summary moves');
  const after = (await page.locator('#feedback-summary').textContent()).trim();
  check(after.includes('1 avis') && after.includes('satisfaction 10,0/10'), `summary now: ${after}`);
  check(await page.locator('svg[role="img"] circle').count() === 1, 'the chart has one day of answers');
  await snap(page, 'startup-avis');

  // --- an export is downloaded whole, and the console says so ---
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Exporter le registre (JSON Lines)' }).click();
  const file = await download;
  await page.locator('#export-status', { hasText: 'Export terminé' }).waitFor();
  const lines = (await (await file.createReadStream()).toArray()).join('').trim().split('\n');
  check(JSON.parse(lines[lines.length - 1]).export_end === true, 'the ledger export ends with its closing line');
  await browser.close();
  console.log('browser test passed');
} catch (e) {
  console.error('FAILED:', e.message);
  if (page) await snap(page, 'echec').catch(() => {});
  await browser.close();
  process.exit(1);
}
