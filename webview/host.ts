// What the panel's views need of the host protocol, imported from one place.
import type { PanelState, WebviewMessage } from '../src/protocol/panel';

export type { PanelState };

/** Sends a message to the extension host. */
export type Post = (message: WebviewMessage) => void;

export type StateOf<K extends PanelState['kind']> = Extract<PanelState, { kind: K }>;
