// Confirm dialogs of the back office: $q.dialog with its title as the
// dialog's accessible name (role="dialog" needs one: axe aria-dialog-name).
// Options the plugin does not know fall through to the QDialog root element.
import type { DialogChainObject, QDialogOptions, QVueGlobals } from 'quasar'

export function namedDialog($q: QVueGlobals, opts: QDialogOptions): DialogChainObject {
  const named: QDialogOptions = Object.assign({}, opts, { 'aria-label': opts.title })
  return $q.dialog(named)
}
