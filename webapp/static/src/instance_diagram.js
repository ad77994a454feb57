/*
 * Process instance page: shows the BPMN diagram with progress markers.
 *
 * Page contract:
 *
 *   <div id="diagram" class="bpmn-container"></div>
 *   <script type="application/json" id="diagram-data">
 *     {"xml": "<bpmn xml>", "completed": ["Task_A", ...], "active": ["Task_B", ...]}
 *   </script>
 *
 * Element ids that are not in the diagram are skipped. Marker styles
 * (.marker-done, .marker-active) live in app.css. The bpmn.io watermark that
 * bpmn-js adds must stay visible (bpmn.io licence).
 */

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';

function readJson(id) {
  const el = document.getElementById(id);
  if (!el) {
    return null;
  }
  try {
    return JSON.parse(el.textContent);
  } catch (err) {
    console.error(`#${id}: invalid JSON`, err);
    return null;
  }
}

function showError(container, message) {
  container.classList.add('bpmn-error');
  container.textContent = message;
}

function ids(value) {
  return Array.isArray(value) ? value.filter((id) => typeof id === 'string' && id) : [];
}

async function main() {
  const container = document.getElementById('diagram');
  if (!container) {
    return;
  }

  const payload = readJson('diagram-data');
  if (!payload || typeof payload.xml !== 'string' || !payload.xml.trim()) {
    showError(container, 'Không có sơ đồ quy trình.');
    return;
  }

  const viewer = new NavigatedViewer({ container });

  try {
    const { warnings } = await viewer.importXML(payload.xml);
    if (warnings && warnings.length) {
      console.warn('bpmn-js import warnings', warnings);
    }
  } catch (err) {
    console.error('bpmn-js import failed', err);
    viewer.destroy();
    showError(container, 'Không hiển thị được sơ đồ quy trình.');
    return;
  }

  const canvas = viewer.get('canvas');
  const elementRegistry = viewer.get('elementRegistry');

  const mark = (list, marker) => {
    for (const id of ids(list)) {
      if (elementRegistry.get(id)) {
        canvas.addMarker(id, marker);
      }
    }
  };

  mark(payload.completed, 'marker-done');
  // an element both completed (earlier) and active (again, e.g. a loop) shows as active
  mark(payload.active, 'marker-active');

  canvas.zoom('fit-viewport', 'auto');

  // expose for debugging / page tests
  container.bpmnViewer = viewer;
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', main);
} else {
  main();
}
