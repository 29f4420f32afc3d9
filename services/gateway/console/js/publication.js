// A start-up's publication, for coordinators (issue 30): nothing is public until it is published,
// then only the parts ticked here; the public page and the open data follow at once.
import { api } from './api.js';
import { render } from './main.js';
import { has } from './session.js';
import { esc, onSubmit, submit, toast } from './ui.js';

const PARTS = [
  ['mission', 'Mission'], ['phases', 'Phases'], ['events', 'Comités (date, issue) et jalons (date, titre)'],
  ['team', 'Équipe (noms et rôles)'], ['sponsors', 'Sponsors'], ['links', 'Liens (service, code source, statistiques)'],
  ['thematiques', 'Thématiques'], ['origin_idea', "L'idée dont elle est issue"],
];

function publicationSection(s) {
  if (!has('coordinator')) return '';
  const p = s.publication || {};
  const box = (name, label, checked) => `<div class="fr-checkbox-group"><input type="checkbox" id="pub-${name}" name="${name}"${checked ? ' checked' : ''}>
    <label class="fr-label" for="pub-${name}">${esc(label)}</label></div>`;
  return `<h2 class="fr-mt-4w">Publication</h2>
    <p id="publication-state">${p.published ? `Publiée : <a href="/startups/${esc(s.slug)}">sa page publique</a>.` : "Pas publiée : rien d'elle n'est public."}</p>
    <form id="publication" class="pep-form"><fieldset class="fr-fieldset"><legend class="fr-fieldset__legend">Ce qui est public</legend>
      ${box('published', 'Publier la start-up (sans cela, rien n’est public)', p.published)}
      ${PARTS.map(([n, l]) => box(n, l, p[n])).join('')}</fieldset>
      ${submit('Enregistrer la publication')}</form>`;
}

function wirePublication(s) {
  const form = document.getElementById('publication');
  if (!form) return;
  onSubmit(form, async (f) => {
    const policy = { published: f.get('published') === 'on' };
    for (const [n] of PARTS) policy[n] = f.get(n) === 'on';
    await api('PUT', `/v1/startups/${encodeURIComponent(s.id)}/publication`, { policy });
    toast(policy.published ? 'Publication enregistrée : la page publique est à jour' : "Start-up dépubliée : plus rien d'elle n'est public");
    render();
  });
}

export { publicationSection, wirePublication };
