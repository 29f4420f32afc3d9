// The web console in a real browser (Debian's chromium, headless, driven by playwright-core),
// people signing in through the real OpenID provider's page: a coordinator creates and opens a
// challenge; two agents sign in for the first time and submit an idea each, seeing their own;
// one supports, comments and follows the other's; the coordinator merges two ideas of another
// challenge and both authors are co-authors of the one that stays;
// the coordinator makes one of them a juror; signed in again he scores the other idea; the
// coordinator selects it; the start-up appears in the portfolio; a committee moves it to
// construction; a team member is given the start-up, pushes a milestone and sees it — and her
// grant — on the timeline; a member of the public gives feedback and the summary moves; the
// committee story of issue 31 (committee_story.mjs).
// Env: PEP_URL (gateway), ARTIFACT_DIR (screenshots).
// Exit 0 when every step held; otherwise the failing step and a screenshot of it.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { committeeStory } from './committee_story.mjs';
import { portfolioAtScale } from './portfolio_scale.mjs';

const URL = process.env.PEP_URL;
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

// axe-core in the page (evaluated through the DevTools protocol, which the page's CSP does not
// govern): every page of ours is checked where it is photographed; a serious or critical
// violation fails the test, the others are printed.
const AXE = fs.readFileSync(fileURLToPath(new globalThis.URL('node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');
let audited = 0;
async function accessibility(p, name) {
  await p.evaluate(AXE);
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const grave = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations) {
    console.log(`axe ${name}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help}` +
      (grave.includes(v) ? ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ') : ''));
  }
  audited += 1;
  check(grave.length === 0, `axe: no serious or critical violation on ${name}`);
}

async function snap(p, name, { axe = true } = {}) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await p.screenshot({ path: file, fullPage: true });
  console.log('screenshot', file);
  if (axe) await accessibility(p, name);
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok -', what);
}

// Presses Tab from the top of the page until the focused element satisfies `is` (a function
// run in the page), as someone without a mouse does; fails after 60 stops.
async function tabTo(p, is, what) {
  await p.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  for (let n = 1; n <= 60; n += 1) {
    await p.keyboard.press('Tab');
    if (await p.evaluate(`(${is})(document.activeElement)`)) {
      console.log(`ok - keyboard: ${what} after ${n} Tab(s)`);
      return;
    }
  }
  throw new Error(`keyboard: ${what} not reached in 60 Tabs`);
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

// Through the provider's own page, as a person does: the console keeps no secret, the gateway a
// session behind an HttpOnly cookie.
async function signIn(p, email, password) {
  await p.goto(URL + '/');
  await p.getByRole('link', { name: 'Se connecter avec ProConnect' }).click();
  await p.getByLabel('Adresse électronique professionnelle').fill(email);
  await p.getByLabel('Mot de passe').fill(password);
  await p.getByRole('button', { name: 'Se connecter' }).click();
  await p.getByRole('button', { name: 'Se déconnecter' }).waitFor();
  // DSFR keeps its display preference (light or dark scheme); nothing else may be kept there.
  const kept = await p.evaluate(() => [...Object.keys(sessionStorage), ...Object.keys(localStorage)]);
  check(kept.every((k) => k === 'scheme'), `${email}: nothing but DSFR's scheme kept in the page's storage (${kept.join(', ') || 'empty'})`);
  check(await p.evaluate(() => !document.cookie.includes('pep_session')), `${email}: the session cookie is HttpOnly`);
}

// Here and at the provider (which asks to confirm).
async function signOut(p) {
  await p.getByRole('button', { name: 'Se déconnecter' }).click();
  await p.getByRole('button', { name: 'Oui, me déconnecter' }).click();
  await p.getByRole('link', { name: 'Se connecter avec ProConnect' }).waitFor();
}

async function person(email, password) {
  const context = await browser.newContext({ locale: 'fr-FR', acceptDownloads: true });
  const p = await context.newPage();
  p.on('pageerror', (e) => { throw e; });
  await signIn(p, email, password);
  return p;
}

async function grant(p, who, right, target) {
  await p.goto(URL + '/comptes');
  await p.getByRole('heading', { name: 'Comptes et droits' }).waitFor();
  await p.getByLabel('Personne').selectOption({ label: who });
  await p.getByLabel('Droit').selectOption(right);
  if (right === 'juror') await p.getByLabel('Défi (pour un juré)').selectOption({ label: target });
  if (right === 'product_team') await p.getByLabel("Start-up (pour un membre d'équipe)").selectOption({ label: target });
  await p.getByRole('button', { name: 'Accorder' }).click();
  await p.getByText('Droit accordé').waitFor();
}


try {
  // --- a coordinator signs in (coordinator from her first sign-in: --oidc_coordinator_emails) ---
  const context = await browser.newContext({ locale: 'fr-FR', acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(URL + '/');
  check(await page.getAttribute('html', 'lang') === 'fr', 'the page says it is French');
  await page.locator('#proconnect').waitFor();  // the page renders once /v1/me answers
  let tabs = 0;
  while (tabs < 8 && !(await page.evaluate(() => document.activeElement?.id === 'proconnect'))) {
    await page.keyboard.press('Tab');
    tabs += 1;
  }
  check(await page.evaluate(() => document.activeElement?.id === 'proconnect'),
    `the sign-in button is reachable with the keyboard (${tabs} tabs, after the skip link and home)`);
  await snap(page, 'connexion');
  await page.getByRole('link', { name: 'Se connecter avec ProConnect' }).click();
  await page.getByLabel('Adresse électronique professionnelle').fill('claire.martin@departement06.fr');
  await page.getByLabel('Mot de passe').fill('pas le bon');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByText(/incorrect/i).first().waitFor();
  await snap(page, 'fournisseur-refus', { axe: false });  // the provider's page, not ours
  await signIn(page, 'claire.martin@departement06.fr', 'coordination-06');
  await page.getByRole('heading', { name: 'Portefeuille', level: 1 }).waitFor();  // a coordinator's home
  await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Défis' }).click();
  await page.getByRole('heading', { name: 'Défis', level: 1 }).waitFor();
  check((await page.locator('#whoami').textContent()).includes('Claire Martin'), 'the console names the person');
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input,select,textarea')]
    .filter((e) => e.type !== 'radio' && e.type !== 'hidden' && !(e.id && document.querySelector(`label[for="${e.id}"]`))).length);
  check(unlabeled === 0, 'every field has a label');

  // --- a challenge, opened ---
  await page.getByLabel('Titre du défi').fill('Simplification administrative');
  await page.getByLabel('Quorum du jury').fill('1');
  await page.getByRole('button', { name: 'Créer le défi' }).click();
  await page.getByRole('heading', { name: 'Défi : Simplification administrative' }).waitFor();
  const challengeUrl = page.url();
  await page.getByRole('button', { name: 'Ouvrir le défi' }).click();
  await page.getByText('Statut : Ouvert').waitFor();
  await snap(page, 'defi-ouvert');

  // --- two agents sign in for the first time and each submits an idea ---
  const submit = async (p, title, problem, name) => {
    await p.goto(challengeUrl);
    await p.getByLabel("Titre de l'idée").fill(title);
    await p.getByLabel('Problème constaté').fill(problem);
    await p.getByLabel('Proposition').fill('Un service en ligne, pré-rempli.');
    await p.getByLabel('Votre nom').fill(name);
    await p.getByLabel('Direction ou service').fill("Direction de l'action sociale");
    await p.getByLabel('Courriel professionnel').fill('agent@departement06.fr');
    await p.getByRole('button', { name: "Déposer l'idée" }).click();
    await p.getByRole('link', { name: title }).waitFor();
  };
  const camille = await person('camille.roux@departement06.fr', 'agent-06');
  await submit(camille, 'Dossier unique', 'Les usagers remplissent trois formulaires pour la même aide.', 'Camille Roux');
  // Camille follows her idea from its page, keyboard only: a toggle that says it is pressed.
  await camille.getByRole('link', { name: 'Dossier unique' }).click();
  await camille.getByRole('heading', { name: 'Idée : Dossier unique' }).waitFor();
  check((await camille.locator('#follow').getAttribute('aria-pressed')) === 'false', 'not followed yet');
  await tabTo(camille, (el) => el.id === 'follow', '« Suivre cette idée »');
  await camille.keyboard.press('Enter');
  await eventually(camille, async () => (await camille.locator('#follow').getAttribute('aria-pressed')) === 'true',
    'the follow button is pressed');
  check((await camille.locator('#follow-state').textContent()).startsWith('Vous suivez cette idée'), 'and says so');
  await snap(camille, 'idee-suivie');
  await camille.reload();
  await camille.getByRole('heading', { name: 'Idée : Dossier unique' }).waitFor();
  check((await camille.locator('#follow').getAttribute('aria-pressed')) === 'true', 'the follow is kept');
  // While the challenge is open, she completes it from its page.
  await camille.getByLabel('Problème constaté').fill('Les usagers remplissent trois formulaires pour la même aide, et les renvoient par courrier.');
  await camille.getByRole('button', { name: 'Enregistrer les modifications' }).click();
  await camille.getByText('et les renvoient par courrier.', { exact: false }).first().waitFor();
  check(true, 'the author edits her idea while the challenge is open');
  // A second idea kept as a draft: hers alone, not sent.
  await camille.goto(challengeUrl);
  await camille.getByLabel("Titre de l'idée").fill('Covoiturage vers les collèges');
  await camille.getByLabel('Problème constaté').fill('Les agents des collèges de montagne viennent seuls en voiture.');
  await camille.getByLabel('Proposition').fill('Une page pour proposer ses trajets.');
  await camille.getByLabel('Votre nom').fill('Camille Roux');
  await camille.getByLabel('Direction ou service').fill('Collèges');
  await camille.getByLabel('Courriel professionnel').fill('agent@departement06.fr');
  await camille.getByRole('button', { name: 'Enregistrer comme brouillon' }).click();
  await camille.getByRole('region', { name: 'Brouillons' }).getByRole('link', { name: 'Covoiturage vers les collèges' }).waitFor();
  check(true, 'a draft is kept in its own column, for its author');
  const karim = await person('karim.benali@departement06.fr', 'jury-06-a');
  await submit(karim, 'Rendez-vous en ligne', 'Il faut téléphoner aux heures de bureau pour un rendez-vous.', 'Karim Benali');
  check(await karim.getByRole('region', { name: 'Déposées' }).getByRole('listitem').count() === 1,
    'an agent sees their own idea, not the others\'');
  await karim.getByRole('link', { name: 'Rendez-vous en ligne' }).click();
  await karim.getByRole('heading', { name: 'Idée : Rendez-vous en ligne' }).waitFor();
  check(await karim.getByRole('button', { name: "Enregistrer l'évaluation" }).count() === 0, 'no scoring before a jury seat');
  await snap(karim, 'idee-agent');

  // --- the coordinator opens the challenge's ideas to all agents; Camille supports Karim's ---
  await page.goto(challengeUrl);
  await page.getByLabel('Visibilité').selectOption('VISIBILITY_AGENTS');
  await page.locator('label[for="v-blind"]').click();  // DSFR draws the box on the label
  await page.getByRole('button', { name: 'Enregistrer la visibilité' }).click();
  await page.getByText('Visibilité enregistrée').waitFor();
  await camille.goto(challengeUrl);
  await camille.getByRole('link', { name: 'Rendez-vous en ligne' }).click();
  await camille.getByRole('heading', { name: 'Idée : Rendez-vous en ligne' }).waitFor();
  check((await camille.locator('#supports').textContent()) === 'Aucun soutien pour le moment', 'no support yet');
  await tabTo(camille, (el) => el.id === 'support', '« Soutenir cette idée »');
  await camille.keyboard.press('Enter');
  await eventually(camille, async () => (await camille.locator('#supports').textContent()) === '1 soutien',
    "Camille's support is counted");
  check((await camille.locator('#support').getAttribute('aria-pressed')) === 'true', 'the support button is pressed');
  await snap(camille, 'idee-soutenue');
  // She follows it too, keyboard only: pep-notify tells her what becomes of her colleague's idea.
  await tabTo(camille, (el) => el.id === 'follow', '« Suivre cette idée »');
  await camille.keyboard.press('Enter');
  await eventually(camille, async () => (await camille.locator('#follow').getAttribute('aria-pressed')) === 'true',
    "Camille follows her colleague's idea");
  // Camille comments, keyboard only; her phone number is masked before anything is stored.
  await tabTo(camille, (el) => el.id === 'comment-body', 'the comment field');
  await camille.keyboard.type('Très utile pour les collèges. Appelez-moi au 06 12 34 56 78.');
  await camille.keyboard.press('Tab');
  await camille.keyboard.press('Enter');
  await camille.locator('.pep-comment').getByText('Très utile pour les collèges. Appelez-moi au [téléphone].').waitFor();
  check((await camille.locator('#comments-title').textContent()) === 'Commentaires (1)', 'the comment is counted');
  check(await camille.evaluate(() => document.activeElement.classList.contains('pep-comment')), 'the focus is on the new comment');
  await snap(camille, 'idee-commentee');
  // Compare before submitting: typing an idea like Karim's shows his, to support rather than repeat.
  await camille.goto(challengeUrl);
  await camille.getByLabel("Titre de l'idée").fill('Rendez-vous en ligne');
  await camille.getByLabel('Problème constaté').fill('Il faut téléphoner aux heures de bureau pour un rendez-vous.');
  await camille.locator('#similar').getByRole('link', { name: 'Rendez-vous en ligne' }).waitFor();
  check(true, 'a look-alike is shown while the idea is typed');
  await karim.goto(challengeUrl);
  await karim.getByRole('link', { name: 'Rendez-vous en ligne' }).click();
  await karim.getByRole('heading', { name: 'Idée : Rendez-vous en ligne' }).waitFor();
  check(await karim.locator('#support').count() === 0, 'an author does not support their own idea');
  // Karim, the author, answers Camille's comment under it.
  await karim.getByRole('button', { name: 'Répondre' }).click();
  await karim.getByLabel('Votre réponse').fill('Merci ! Les collèges sont prévus.');
  await karim.getByRole('button', { name: 'Publier la réponse' }).click();
  await karim.locator('.pep-answers').getByText('Merci ! Les collèges sont prévus.').waitFor();
  check((await karim.locator('#comments-title').textContent()) === 'Commentaires (2)', 'the answer is under the comment');

  // --- the coordinator makes Karim a juror of the challenge ---
  await grant(page, 'Karim Benali (karim.benali@departement06.fr)', 'juror', 'Simplification administrative');
  await page.getByRole('cell', { name: /Juré — défi « Simplification administrative »/ }).waitFor();
  console.log('ok - the grant is listed with the challenge');
  await snap(page, 'comptes');

  // --- signed in again, the juror scores the other idea ---
  await signOut(karim);
  await signIn(karim, 'karim.benali@departement06.fr', 'jury-06-a');
  await karim.goto(challengeUrl);
  await karim.getByRole('region', { name: 'Déposées' }).getByRole('link', { name: 'Dossier unique' }).waitFor();
  check(await karim.getByRole('region', { name: 'Déposées' }).getByRole('listitem').count() === 2,
    'on the jury, every idea of the challenge is visible');
  check(await karim.getByRole('region', { name: 'Brouillons' }).count() === 0 &&
    await karim.getByText('Covoiturage vers les collèges').count() === 0, "but no one's draft");
  await karim.getByRole('link', { name: 'Dossier unique' }).first().click();
  await karim.getByRole('heading', { name: 'Idée : Dossier unique' }).waitFor();
  const ideaUrl = karim.url();
  check(await karim.getByText("auteur·e masqué·e au jury jusqu'à la décision").count() === 1, 'a blind jury sees no author');
  check(await karim.getByText('Camille Roux').count() === 0, "nor the author's name anywhere on the page");
  // Keyboard only: Tab from the top of the page to the first score, type, Tab, type, Enter.
  await tabTo(karim, (el) => el.id === 's-0', 'the first score field');
  await karim.keyboard.type('5');
  await karim.keyboard.press('Tab');
  check(await karim.evaluate(() => document.activeElement.id === 's-1'), 'Tab goes from one score to the next');
  await karim.keyboard.type('4');
  await karim.keyboard.press('Enter');  // submits the scorecard
  await karim.getByRole('cell', { name: '4,50' }).waitFor();
  await snap(karim, 'evaluation');
  await karim.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Mon jury' }).click();
  await karim.getByRole('heading', { name: 'Mon jury', level: 1 }).waitFor();
  const workspace = await karim.getByRole('region', { name: 'Simplification administrative' }).textContent();
  check(workspace.includes('Vous avez évalué 1 idée(s)'), `the juror's workspace counts the scored idea: ${workspace.trim().replace(/\s+/g, ' ')}`);
  check(!workspace.includes('Rendez-vous en ligne'), 'his own idea does not wait for his score');
  await snap(karim, 'jury');
  await karim.goto(challengeUrl);
  await karim.getByRole('region', { name: 'Déposées' }).getByRole('link', { name: 'Rendez-vous en ligne' }).click();
  await karim.getByRole('heading', { name: 'Idée : Rendez-vous en ligne' }).waitFor();
  check(await karim.getByRole('button', { name: "Enregistrer l'évaluation" }).count() === 0 &&
    await karim.getByRole('button', { name: /Me déporter/ }).count() === 0, 'a juror does not score their own idea');

  // --- the coordinator shortlists, then selects it ---
  await page.goto(challengeUrl);
  await page.getByRole('table', { name: /Classement/ }).getByRole('cell', { name: '4,50' }).waitFor();
  const progress = await page.locator('#jury-progress tbody').textContent();
  check(progress.includes('Karim Benali') && /Karim Benali\s*1\b/.test(progress.replace(/\s+/g, ' ')),
    `the jury's progress names the juror and his one scorecard: ${progress.trim().replace(/\s+/g, ' ')}`);
  await snap(page, 'defi-classement');
  // Results announced together: scheduled a few seconds ahead, the decisions wait for that time.
  const announce = await page.evaluate(() => {
    const d = new Date(Date.now() + 12000);
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    return local.endsWith(':00') ? local.slice(0, 16) : local;  // Chromium writes a whole minute without its seconds
  });
  await page.getByLabel("Date et heure de l'annonce").fill(announce);
  await page.getByRole('button', { name: "Programmer l'annonce" }).click();
  await page.locator('#results-state').waitFor();
  await page.goto(ideaUrl);
  for (const [option, status] of [['IDEA_STATUS_SHORTLISTED', 'Présélectionnée'],
    ['IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION', 'Retenue']]) {
    await page.getByLabel('Décision').selectOption(option);
    await page.getByLabel('Motif').fill('Fort impact pour les usagers');
    await page.getByRole('button', { name: 'Enregistrer la décision' }).click();
    await page.getByText(`Décision enregistrée : ${status}`).waitFor();
  }
  check(await page.getByText('Statut : Retenue').count() === 0, 'the decisions wait for the announcement');
  await camille.goto(URL + '/mes-idees');
  await camille.getByRole('table', { name: 'Mes idées' }).waitFor();
  check(!(await camille.locator('#my-ideas').textContent()).includes('Fort impact'), 'Camille learns nothing before it');
  await eventually(page, async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Idée : Dossier unique' }).waitFor();
    return await page.getByText('Statut : Retenue').count() > 0;
  }, 'the decisions are published together at the announced time');
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

  // --- Camille is told: the bell, her notifications, her e-mail settings (keyboard only) ---
  await camille.goto(URL + '/defis');
  await eventually(camille, async () => /Notifications \(\d+ non lues?\)/.test(await camille.locator('#bell').textContent()),
    "the bell counts Camille's unread notifications");
  const bellText = await camille.locator('#bell').textContent();
  await tabTo(camille, (el) => el.id === 'bell', 'the bell');
  await camille.keyboard.press('Enter');
  await camille.getByRole('heading', { name: 'Mes notifications', level: 1 }).waitFor();
  await eventually(camille, async () => await camille.getByRole('link', { name: /devient la start-up publique « Dossier unique »/ }).count() > 0,
    'Camille is told her idea became a start-up');
  const told = await camille.locator('main').textContent();
  check(told.includes('Votre idée « Dossier unique » est bien reçue'), 'the receipt of her idea is listed');
  check(told.includes('Décision du jury sur votre idée « Dossier unique »'), "the jury's decisions are listed");
  check(told.includes('Fort impact pour les usagers'), "with the jury's reasons");
  check(await camille.getByText('Non lue').count() >= 3, `unread ones are marked (bell said: ${bellText})`);
  await snap(camille, 'notifications');
  // « Mes idées » from « à chaque fois » to « une fois par semaine »: Tab to the group, arrows.
  await tabTo(camille, (el) => el.name === 'idees' && el.checked, "the e-mail setting of « Mes idées »");
  check(await camille.evaluate(() => document.activeElement.value === 'DELIVERY_IMMEDIATE'), 'ideas are e-mailed at once by default');
  await camille.keyboard.press('ArrowDown');
  await camille.keyboard.press('ArrowDown');
  check(await camille.evaluate(() => document.activeElement.value === 'DELIVERY_WEEKLY'), 'the arrows reach « une fois par semaine »');
  await tabTo(camille, (el) => el.textContent === 'Enregistrer mes choix', 'the save button');
  await camille.keyboard.press('Enter');
  await camille.getByText('Vos choix sont enregistrés').waitFor();
  await camille.reload();
  await camille.getByRole('heading', { name: 'Mes notifications', level: 1 }).waitFor();
  check(await camille.locator('#pref-idees-DELIVERY_WEEKLY').isChecked(), 'the choice is kept');
  await tabTo(camille, (el) => el.id === 'read-all', '« Tout marquer comme lu »');
  await camille.keyboard.press('Enter');
  await camille.getByText('Tout est lu.').waitFor();
  check((await camille.locator('#bell').textContent()) === 'Notifications', 'the bell has nothing unread');
  await snap(camille, 'notifications-lues');
  // « Mes idées »: her idea, its status and the jury's reasons, hers to read.
  await camille.goto(URL + '/mes-idees');
  await camille.getByRole('heading', { name: 'Mes idées', level: 1 }).waitFor();
  check(/Fort impact pour les usagers/.test(await camille.getByRole('row', { name: /Dossier unique/ }).textContent()),
    "« Mes idées » shows the jury's reasons to the author");
  await snap(camille, 'mes-idees');

  // --- Claire gathers two look-alike ideas of another challenge: both authors become co-authors ---
  const call = (p, method, target, body) => p.evaluate(async ([m, u, b]) => {
    const r = await fetch(u, { method: m, credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: b ? JSON.stringify(b) : undefined });
    return r.json();
  }, [method, target, body]);
  const mobility = await call(page, 'POST', '/v1/challenges', { title: 'Mobilités des agents', theme: 'mobilité',
    criteria: [{ name: 'impact', weight: 1 }], jury_quorum: 1, visibility: 'VISIBILITY_AGENTS' });
  await call(page, 'POST', `/v1/challenges/${mobility.id}:open`);
  const fileIdea = async (p, title, name) => (await call(p, 'POST', `/v1/challenges/${mobility.id}/ideas`, {
    title, problem: 'Les agents des collèges de montagne viennent seuls en voiture.', proposal: 'Partager ses trajets.',
    author_name: name, department: 'Collèges', contact_email: 'agent@departement06.fr' })).idea;
  const kept = await fileIdea(camille, 'Covoiturage entre agents', 'Camille Roux');
  const joined = await fileIdea(karim, 'Partager la voiture de service', 'Karim Benali');
  await page.goto(`${URL}/idees/${kept.id}`);
  await page.getByRole('heading', { name: 'Idée : Covoiturage entre agents' }).waitFor();
  await page.getByLabel('Idée à regrouper').selectOption(joined.id);
  await page.locator('#m-rationale').fill('Deux propositions de covoiturage vers les collèges');
  await page.getByRole('button', { name: 'Regrouper', exact: true }).click();
  await page.locator('#lineage').getByRole('link', { name: 'Partager la voiture de service' }).waitFor();
  check((await page.locator('main').textContent()).includes('par Camille Roux (Collèges), avec Karim Benali'),
    'the idea that stays names both authors');
  await snap(page, 'idees-regroupees');
  await karim.goto(`${URL}/idees/${joined.id}`);
  await karim.getByText('Cette idée a été regroupée avec une autre').waitFor();
  await karim.getByRole('link', { name: "l'idée qui la réunit" }).click();
  await karim.getByRole('heading', { name: 'Idée : Covoiturage entre agents' }).waitFor();
  check(await karim.getByRole('heading', { name: 'Co-auteur·es' }).count() === 1, 'Karim is a co-author of the idea that stays');
  await snap(karim, 'idee-regroupee-co-auteur');
  await page.goto(startupUrl);
  await page.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();

  // --- a committee moves it to construction ---
  // Keyboard only: to the committee's decision (GO is the first choice), on to the reason,
  // type it, on to the new phase (Construction is the first legal one), to the button, Enter.
  await tabTo(page, (el) => el.id === 'k-outcome', "the committee's decision");
  check(await page.evaluate(() => document.activeElement.value === 'COMMITTEE_OUTCOME_GO'), 'GO is offered first');
  await page.keyboard.press('Tab');  // participants (DGS)
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id === 'k-rationale'), 'Tab reaches the reason');
  await page.keyboard.type('Problème confirmé auprès de 12 usagers');
  await page.keyboard.press('Tab');
  const landed = await page.evaluate(() => `${document.activeElement.id}=${document.activeElement.value}`);
  check(landed === 'k-to=PHASE_CONSTRUCTION', `Tab reaches the new phase, Construction first (${landed})`);
  // Then what the committee grants (all optional: date, envelope, next review, objectives — a date
  // field is three stops, day, month, year), and the button.
  for (let n = 0; n < 40 && !(await page.evaluate(() => document.activeElement.textContent === 'Enregistrer le comité et changer de phase')); n += 1) {
    await page.keyboard.press('Tab');
  }
  check(await page.evaluate(() => document.activeElement.textContent === 'Enregistrer le comité et changer de phase'), 'then the button');
  await page.keyboard.press('Enter');
  await page.locator('#phase', { hasText: 'Construction' }).waitFor();
  const before = (await page.locator('#feedback-summary').textContent()).trim();

  // --- Claire publishes it (mission and phases); a visitor without JavaScript finds it ---
  for (const id of ['pub-published', 'pub-mission', 'pub-phases', 'pub-satisfaction', 'pub-origin_idea', 'pub-kpis']) await page.locator(`label[for="${id}"]`).click();
  await page.getByRole('button', { name: 'Enregistrer la publication' }).click();
  await page.locator('#publication-state').getByRole('link', { name: 'sa page publique' }).waitFor();
  const visitor = await (await browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false })).newPage();
  await visitor.goto(URL + '/startups');
  await visitor.getByLabel('Phase').selectOption('PHASE_CONSTRUCTION');
  await visitor.getByRole('button', { name: 'Filtrer' }).click();
  await visitor.getByRole('link', { name: 'Dossier unique' }).click();
  await visitor.getByRole('heading', { name: 'Dossier unique', level: 1 }).waitFor();
  const seen = await visitor.locator('main').textContent();
  check(await visitor.locator('#mission').count() === 1 && seen.includes('Construction'), 'the public page, without JavaScript: mission and phases');
  check(seen.includes('Non disponible') && !seen.includes('Problème confirmé'), "what is not published is « non disponible », the committee's reasons nowhere");
  check((await visitor.locator('#satisfaction').textContent()).includes("Pas encore assez d'avis pour une note : il en faut 100"),
    "users' satisfaction, published: no score before 100 answers");
  // The idea it came from: Camille is named only once she agrees, on her idea's page.
  check((await visitor.locator('#origin').textContent()).includes("Issue de l'idée « Dossier unique »")
    && !(await visitor.locator('#origin').textContent()).includes('Camille'), 'the originating idea, its author not named without her consent');
  await camille.goto(URL + '/mes-idees');
  await camille.getByRole('row', { name: /Dossier unique/ }).getByRole('link', { name: 'Dossier unique' }).click();
  await camille.getByRole('button', { name: 'Accepter que mon nom y figure' }).click();
  await camille.locator('#credit-state', { hasText: 'Votre nom y figure' }).waitFor();
  await eventually(visitor, async () => (await visitor.locator('#origin').textContent()).includes('par Camille Roux'),
    'her name on the public page once she agreed', 10);
  // She follows the construction phase to its proof in the ledger, and checks it offline.
  await visitor.locator('.pep-phases li', { hasText: 'Construction' }).getByRole('link', { name: /^Preuve/ }).click();
  await eventually(visitor, async () => (await visitor.getByRole('heading', { name: 'Un fait public et sa preuve' }).count()) === 1,
    'the proof page, once the ledger has signed the fact', 30);
  check((await visitor.locator('#fact').textContent()).includes('Dossier unique : entrée en construction le'),
    'the proof page states the fact as the ledger holds it');
  const proofUrl = new globalThis.URL(await visitor.locator('#proof-download').getAttribute('href'), URL).href;
  const proofFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'preuve-')), 'preuve.jsonl');
  fs.writeFileSync(proofFile, await (await fetch(proofUrl)).text());
  const key = (await visitor.locator('pre code').first().textContent()).match(/--key '([^']+)'/)[1];
  const verified = spawnSync('python3', [fileURLToPath(new globalThis.URL('../../services/audit/tools/verify-ledger.py', import.meta.url)),
    '--key', key, proofFile], { encoding: 'utf8' });
  check(verified.status === 0 && verified.stdout.startsWith('OK: 1 entries'), `the proof verifies offline: ${verified.stdout}${verified.stderr}`);
  const factPage = visitor.url();
  const reader = await (await browser.newContext({ locale: 'fr-FR' })).newPage();  // axe runs as a script
  await reader.goto(factPage);
  await snap(reader, 'preuve-publique');
  await visitor.goBack();
  await reader.goto(visitor.url());
  await snap(reader, 'page-publique');
  await reader.goto(URL + '/startups');
  await snap(reader, 'portefeuille-public');

  // --- a team member is given the start-up; she pushes a milestone and sees it on the timeline ---
  const lea = await person('lea.moreau@beta.gouv.fr', 'equipe-06');
  await grant(page, 'Léa Moreau (lea.moreau@beta.gouv.fr)', 'product_team', 'Dossier unique');
  await lea.goto(URL + '/');
  await lea.getByRole('link', { name: 'Ma start-up' }).click();
  await lea.getByRole('heading', { name: 'Start-up : Dossier unique' }).waitFor();
  check(!(await lea.getByRole('link', { name: 'Portefeuille' }).isVisible()),
    'a team member is not offered pages they may not read');
  await lea.getByLabel('Titre du jalon').fill('Mise en production');
  await lea.getByRole('button', { name: 'Publier le jalon' }).click();
  await lea.locator('#milestones', { hasText: 'Mise en production' }).waitFor();
  await eventually(lea, async () => (await lea.locator('#timeline').textContent()).includes('Jalon : Mise en production'),
    'the milestone reaches the audit timeline');
  const timeline = await lea.locator('#timeline').textContent();
  check(timeline.includes('Passage en construction'), 'the timeline shows the phase change');
  check(timeline.includes("Accès accordé à Léa Moreau : membre de l'équipe"), 'the timeline shows who was let in, and by whom');
  await snap(lea, 'startup-jalon');
  // She keeps the fiche: a new mission, proposed; Claire accepts it; the public page has it.
  await lea.getByLabel('Mission', { exact: true }).fill('Un seul dossier en ligne pour toutes les aides du Département');
  await lea.getByLabel('Indicateur 1', { exact: false }).first().fill('Familles accompagnées');
  await lea.getByLabel('Valeur de l’indicateur 1').fill('100');
  await lea.getByRole('button', { name: 'Proposer la modification' }).click();
  await lea.locator('#fiche-edits', { hasText: 'en attente de relecture' }).waitFor();
  // She keeps the team too: a designer joins.
  await lea.getByLabel('Nom du nouveau membre').fill('Sam Petit');
  await lea.locator('#t-kind').selectOption('TEAM_ROLE_DESIGN');
  await lea.locator('#t-role').fill('designer');
  await lea.getByRole('button', { name: 'Ajouter à l’équipe' }).click();
  await lea.locator('#team-members', { hasText: 'Sam Petit — designer (Design)' }).waitFor();
  check(!(await visitor.reload(), await visitor.locator('main').textContent()).includes('Un seul dossier'),
    'not public before the review');
  await page.goto(startupUrl);
  await page.getByRole('button', { name: 'Accepter' }).click();
  await page.locator('#fiche-edits', { hasText: 'acceptée' }).waitFor();
  await visitor.reload();
  check((await visitor.locator('#mission').textContent()).includes('Un seul dossier en ligne'), 'accepted, the public page has it');
  check((await visitor.locator('#kpis').textContent()).includes('Familles accompagnées : 100'), 'and the indicator the team keeps');

  // --- Léa places the « Je donne mon avis » button; the public comes by it and gives feedback ---
  await lea.getByLabel(/Où le bouton sera-t-il placé/).fill('Page de confirmation du dossier');
  await lea.getByRole('button', { name: 'Créer l’emplacement' }).click();
  const placed = lea.locator('#placements li', { hasText: 'Page de confirmation du dossier' });
  await placed.waitFor();
  const code = await placed.locator('code').textContent();
  const buttonHref = code.match(/href="([^"]+)"/)[1];
  const buttonImage = await fetch(code.match(/src="([^"]+)"/)[1]);
  check(buttonImage.status === 200 && buttonImage.headers.get('content-type') === 'image/svg+xml', 'the snippet\'s image is served');
  const publicContext = await browser.newContext({ locale: 'fr-FR' });
  const citizen = await publicContext.newPage();
  await citizen.setContent(code);  // the team's page, with the snippet pasted in it
  await citizen.getByRole('link', { name: 'Je donne mon avis' }).waitFor();
  await citizen.goto(buttonHref);
  await snap(citizen, 'avis-formulaire');
  const deadline = Date.now() + 60000;
  while (true) {  // until pep-feedback has learned that the product is in construction
    await citizen.getByText('Bien', { exact: true }).click();  // DSFR draws the radio on its label
    check(await citizen.getByRole('radio', { name: 'Bien' }).isChecked(), 'the label checks its radio');
    await citizen.locator('#help-sought').getByText('Par téléphone', { exact: true }).click();
    await citizen.locator('#help-sought').getByText('Sur un site internet', { exact: true }).click();
    await citizen.locator('#help-found').getByText('Sur un site internet', { exact: true }).click();
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
  check(await page.locator('#feedback-chart circle').count() === 1, 'the chart has one day of answers');
  await snap(page, 'startup-avis');
  await lea.reload();
  check((await lea.locator('#placements li', { hasText: 'Page de confirmation du dossier' }).textContent()).includes('1 avis'),
    'the answer is counted for the placement it came by');
  const answers = await lea.evaluate(async (u) => (await fetch(u)).json(), `${URL}/v1/startups/${startupId}/feedback`);
  const theirs = (answers.feedback || []).find((a) => a.placement);
  const help = theirs ? theirs.help.map((h) => `${h.channel}:${h.reached === true}`).join(' ') : '';
  check(help === 'HELP_CHANNEL_PHONE:false HELP_CHANNEL_WEBSITE:true', `the help sought and found reaches the answer: ${help}`);

  // --- a committee prepared, judged against what was promised, checked against the ledger ---
  await committeeStory({ page, lea, URL, check, snap, startupUrl, startupId });

  // --- an export is downloaded whole, and the console says so ---
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Exporter le registre (JSON Lines)' }).click();
  const file = await download;
  await page.locator('#export-status', { hasText: 'Export terminé' }).waitFor();
  const lines = (await (await file.createReadStream()).toArray()).join('').trim().split('\n');
  check(JSON.parse(lines[lines.length - 1]).export_end === true, 'the ledger export ends with its closing line');
  await portfolioAtScale(page, { URL, check, snap });
  check(audited >= 15, `axe ran on ${audited} pages`);
  await browser.close();
  console.log('browser test passed');
} catch (e) {
  console.error('FAILED:', e.message);
  for (const p of browser.contexts().flatMap((c) => c.pages())) {  // every person's page as it was
    console.error('page at', p.url());
    await snap(p, 'echec', { axe: false }).catch(() => {});
  }
  await browser.close();
  process.exit(1);
}
