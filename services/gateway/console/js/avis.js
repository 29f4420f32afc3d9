// « Je donne mon avis »: the public form (what the API accepts: satisfaction, clarity, the help
// sought and whether it was found, the recommendation, a message — and the button's placement
// the person came by, ?p=), and, on a start-up's page, the button its team places in its service:
// one placement per place, the code to paste, the answers each brought.
import { api, idempotencyKey } from './api.js';
import { render } from './main.js';
import { has, main, teamStartups } from './session.js';
import { alertBox, esc, field, int, onSubmit, select, submit, toast } from './ui.js';

const CHANNELS = [
  ['HELP_CHANNEL_COUNTER', 'Au guichet'], ['HELP_CHANNEL_PHONE', 'Par téléphone'], ['HELP_CHANNEL_EMAIL', 'Par courriel'],
  ['HELP_CHANNEL_CHAT', 'Par messagerie instantanée (chat)'], ['HELP_CHANNEL_RELATIVE', 'Auprès d’un proche'],
  ['HELP_CHANNEL_ASSOCIATION', 'Auprès d’une association'], ['HELP_CHANNEL_WEBSITE', 'Sur un site internet'],
  ['HELP_CHANNEL_OTHER', 'Autrement'],
];

function feedbackForm(id) {
  const placement = new URLSearchParams(window.location.search).get('p') || '';
  const radio = (name, value, label, n) => `<div class="fr-fieldset__element fr-fieldset__element--inline"><div class="fr-radio-group">
    <input type="radio" id="${name}-${n}" name="${name}" value="${value}" required><label class="fr-label" for="${name}-${n}">${label}</label></div></div>`;
  const box = (name, label) => `<div class="fr-fieldset__element fr-fieldset__element--inline"><div class="fr-checkbox-group">
    <input type="checkbox" id="${name}" name="${name}"><label class="fr-label" for="${name}">${esc(label)}</label></div></div>`;
  main().innerHTML = `
    <h1>Je donne mon avis</h1>
    <form id="feedback" class="pep-form">
      <fieldset class="fr-fieldset" data-field="satisfaction"><legend class="fr-fieldset__legend">De façon générale, êtes-vous satisfait·e de ce service ?</legend>
        ${radio('satisfaction', 'SATISFACTION_GOOD', 'Bien', 1)}${radio('satisfaction', 'SATISFACTION_MEDIUM', 'Moyen', 2)}${radio('satisfaction', 'SATISFACTION_BAD', 'Mal', 3)}</fieldset>
      ${field('f-clarity', 'Les informations étaient-elles claires ? (1 à 5, facultatif)', { name: 'clarity', type: 'number', attrs: 'min="1" max="5"' })}
      <fieldset class="fr-fieldset" data-field="help" id="help-sought"><legend class="fr-fieldset__legend">Avez-vous cherché de l’aide pour faire cette démarche ? Par quels moyens ? (facultatif)</legend>
        ${box('help-none', 'Je n’en ai pas eu besoin')}${CHANNELS.map(([v, l]) => box(`help-${v}`, l)).join('')}</fieldset>
      <fieldset class="fr-fieldset" id="help-found"><legend class="fr-fieldset__legend">Par lesquels avez-vous obtenu de l’aide ? (facultatif)</legend>
        ${CHANNELS.map(([v, l]) => box(`reached-${v}`, l)).join('')}</fieldset>
      ${field('f-nps', 'Recommanderiez-vous ce service ? (0 à 10, facultatif)', { name: 'nps', type: 'number', attrs: 'min="0" max="10"' })}
      ${field('f-verbatim', 'Votre message (facultatif, 2 000 caractères au plus)', { name: 'verbatim', type: 'textarea', attrs: 'maxlength="2000"' })}
      ${submit('Envoyer mon avis')}
    </form>`;
  onSubmit(document.getElementById('feedback'), async (f) => {
    const body = { satisfaction: f.get('satisfaction'), verbatim: f.get('verbatim') || '',
      idempotency_key: idempotencyKey('form-') };
    if (placement) body.placement = placement;
    if (f.get('clarity')) body.clarity = Number(f.get('clarity'));
    if (f.get('nps')) body.nps = Number(f.get('nps'));
    const help = CHANNELS.filter(([v]) => f.get(`help-${v}`) === 'on' || f.get(`reached-${v}`) === 'on')
      .map(([v]) => ({ channel: v, reached: f.get(`reached-${v}`) === 'on' }));
    if (f.get('help-none') === 'on' && !help.length) help.push({ channel: 'HELP_CHANNEL_NO_HELP_NEEDED' });
    if (help.length) body.help = help;
    await api('POST', `/v1/startups/${encodeURIComponent(id)}/feedback`, body);
    main().innerHTML = '<h1>Merci !</h1>' + alertBox('success', 'Votre avis a bien été enregistré.').replace('<p>', '<p id="thanks">');
  });
}

const mayPlace = (s) => has('coordinator') || teamStartups().includes(s.id);

async function placementsOf(s) {
  if (!mayPlace(s)) return null;
  try { return await api('GET', `/v1/startups/${encodeURIComponent(s.id)}/feedback-placements`); } catch (e) { return null; }
}

// What a team pastes: an image link, nothing to load but the picture.
function snippet(s, p) {
  const base = window.location.origin;
  const color = p.variant === 'BUTTON_VARIANT_WHITE' ? 'blanc' : 'bleu';
  return `<a href="${base}/avis/${s.id}?p=${p.id}" target="_blank" rel="noopener">`
    + `<img src="${base}/v1/public/boutons/je-donne-mon-avis-${color}.svg" alt="Je donne mon avis" width="212" height="48"></a>`;
}

function buttonSection(s, list) {
  if (!list) return '';
  const placements = list.placements || [];
  return `<h2 class="fr-mt-4w" id="button-title">Le bouton « Je donne mon avis »</h2>
    <p class="fr-text--sm">Un emplacement par endroit où l’équipe place le bouton dans son service : chacun a son code à coller, et ses avis sont comptés à part.</p>
    ${placements.length ? `<ul id="placements">${placements.map((p) => `<li><strong>${esc(p.label)}</strong> — ${int(p.answers || 0)} avis
      <pre class="pep-pre"><code>${esc(snippet(s, p))}</code></pre></li>`).join('')}</ul>
      <p class="fr-text--sm" id="unplaced">Avis venus d’ailleurs (ce formulaire, un ancien lien) : ${int(list.unplaced || 0)}.</p>` : '<p>Aucun emplacement pour l’instant.</p>'}
    <form id="placement" class="pep-form"><h3 class="fr-h6">Placer le bouton</h3>
      ${field('pl-label', 'Où le bouton sera-t-il placé ?', { name: 'label', required: true, hint: 'Par exemple : page de confirmation du dossier' })}
      ${select('pl-variant', 'Couleur', 'variant', [['BUTTON_VARIANT_BLUE', 'Bleu, pour un fond clair'], ['BUTTON_VARIANT_WHITE', 'Blanc, pour un fond foncé']])}
      ${submit('Créer l’emplacement')}</form>`;
}

function wireButton(s) {
  const form = document.getElementById('placement');
  if (!form) return;
  onSubmit(form, async (f) => {
    await api('POST', `/v1/startups/${encodeURIComponent(s.id)}/feedback-placements`, { label: f.get('label'), variant: f.get('variant') });
    toast('Emplacement créé : son code est prêt à coller');
    render();
  });
}

export { buttonSection, feedbackForm, placementsOf, wireButton };
