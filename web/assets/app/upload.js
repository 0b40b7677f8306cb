// Enhancement only: without this file the import forms post as they are and the report page
// comes back. With it, the file is sent by XMLHttpRequest so a <progress> can follow the
// upload, then the answer replaces the page's content and the report (or the error) gets
// the focus. A file over the limit is said at once, next to its field, without sending it.

function enhance(root) {
  for (const form of root.querySelectorAll('form[data-upload]')) upload(form);
}

function upload(form) {
  const box = form.querySelector('[data-progress]');
  const bar = box.querySelector('progress');
  const said = box.querySelector('[data-progress-text]');
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', (event) => {
    const input = form.querySelector('input[type=file]');
    const file = input.files && input.files[0];
    const limit = Number(form.dataset.limit);
    if (file && limit && file.size > limit) {
      event.preventDefault();
      say(input, `Le fichier dépasse la taille maximale acceptée par l'API, ${form.dataset.limitText} : découpez-le en plusieurs fichiers plus petits.`);
      return;
    }
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open('POST', form.action);
    request.responseType = 'document';
    request.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      said.textContent = `${percent} % envoyés`;
    });
    request.upload.addEventListener('load', () => {
      bar.value = 100;
      said.textContent = 'Fichier envoyé, import en cours…';
    });
    request.addEventListener('load', () => {
      const answer = request.response;
      const main = answer && answer.querySelector('main');
      if (!main) {
        said.textContent = "L'import n'a pas pu être lu : rechargez la page et réessayez.";
        button.disabled = false;
        return;
      }
      document.title = answer.title;
      const content = document.adoptNode(main);
      document.querySelector('main').replaceWith(content);
      const focus = document.querySelector('#rapport h2, [aria-invalid=true], .fr-alert--error');
      if (focus) {
        if (!focus.hasAttribute('tabindex') && !focus.matches('input')) focus.setAttribute('tabindex', '-1');
        focus.focus();
      }
      // The new content has its own forms.
      enhance(content);
    });
    request.addEventListener('error', () => {
      said.textContent = "L'envoi a échoué : vérifiez votre connexion, puis réessayez.";
      button.disabled = false;
    });
    box.hidden = false;
    bar.value = 0;
    said.textContent = '0 % envoyés';
    button.disabled = true;
    request.send(new FormData(form));
  });
}

enhance(document);

// An error next to a file field, as the server would write it.
function say(input, message) {
  const group = input.closest('.fr-input-group');
  let error = document.getElementById(`${input.id}-erreur`);
  if (!error) {
    error = document.createElement('p');
    error.id = `${input.id}-erreur`;
    error.className = 'fr-error-text';
    input.after(error);
  }
  error.textContent = message;
  group.classList.add('fr-input-group--error');
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', error.id);
  input.focus();
}
