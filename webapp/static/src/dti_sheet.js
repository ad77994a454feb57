// The DTI scoring sheet page (templates/dti/sheet.html): totals, saving each line, evidence, history.
import { initSheet } from './modules/dti_sheet.js';

const root = document.getElementById('dti-sheet');
if (root) {
  initSheet(root);
}
