/** The methods a dialog of ours takes (the Allow of our INVITEs, 2xx and 405s; RFC 3261 §20.5). */
export const SESSION_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'NOTIFY', 'MESSAGE'];

export const ALLOW = SESSION_METHODS.join(', ');
