/**
 * Recognises the usual spelling of the header names seen on nearly every message, followed by their colon, where
 * a header line starts: what the parser does for nearly every line of nearly every message. The comparisons are
 * written out with the bytes as constants, which costs a fraction of comparing with a table's bytes (bench:sip);
 * the test checks them against `SPELLED_HEADER_NAMES`. Another letter case, white space before the colon, a
 * compact form or another name is left to the parser's general path.
 */

/** The names recognised, in the order of the indices `spelledHeaderName` returns. */
export const SPELLED_HEADER_NAMES: readonly string[] = [
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Max-Forwards',
  'Content-Type',
  'Content-Length',
  'Route',
  'Record-Route',
  'Allow',
  'Supported',
  'Require',
  'User-Agent',
  'Server',
  'Expires',
  'Accept',
  'Event',
  'Authorization',
  'WWW-Authenticate',
  'Proxy-Authorization',
  'Proxy-Authenticate',
  'Session-Expires',
  'Subscription-State',
  'Allow-Events',
  'Date',
  'Subject',
  'Reason',
  'P-Asserted-Identity',
];

/**
 * The index in `SPELLED_HEADER_NAMES` of the name that, followed by a colon, starts at b[p]; -1 for none. It
 * stops at the first byte that differs, so it reads no further than the line's CR.
 */
export function spelledHeaderName(b: Uint8Array, p: number): number {
  switch (b[p]) {
    case 86: // V
      // Via:
      if (b[p + 1] === 105 && b[p + 2] === 97 && b[p + 3] === 58) return 0;
      return -1;
    case 70: // F
      // From:
      if (b[p + 1] === 114 && b[p + 2] === 111 && b[p + 3] === 109 && b[p + 4] === 58) return 1;
      return -1;
    case 84: // T
      // To:
      if (b[p + 1] === 111 && b[p + 2] === 58) return 2;
      return -1;
    case 67: // C
      // Five names: the second byte, then the common "Cont" and "Content-", are compared once.
      if (b[p + 1] === 97) {
        // Call-ID:
        if (b[p + 2] === 108 && b[p + 3] === 108 && b[p + 4] === 45 && b[p + 5] === 73 && b[p + 6] === 68 && b[p + 7] === 58) {
          return 3;
        }
      } else if (b[p + 1] === 83) {
        // CSeq:
        if (b[p + 2] === 101 && b[p + 3] === 113 && b[p + 4] === 58) return 4;
      } else if (b[p + 1] === 111 && b[p + 2] === 110 && b[p + 3] === 116) {
        if (b[p + 4] === 97) {
          // Contact:
          if (b[p + 5] === 99 && b[p + 6] === 116 && b[p + 7] === 58) return 5;
        } else if (b[p + 4] === 101 && b[p + 5] === 110 && b[p + 6] === 116 && b[p + 7] === 45) {
          // Content-Type:
          if (b[p + 8] === 84 && b[p + 9] === 121 && b[p + 10] === 112 && b[p + 11] === 101 && b[p + 12] === 58) return 7;
          // Content-Length:
          if (
            b[p + 8] === 76 && b[p + 9] === 101 && b[p + 10] === 110 && b[p + 11] === 103 && b[p + 12] === 116 &&
            b[p + 13] === 104 && b[p + 14] === 58
          ) {
            return 8;
          }
        }
      }
      return -1;
    case 77: // M
      // Max-Forwards:
      if (
        b[p + 1] === 97 && b[p + 2] === 120 && b[p + 3] === 45 && b[p + 4] === 70 && b[p + 5] === 111 &&
        b[p + 6] === 114 && b[p + 7] === 119 && b[p + 8] === 97 && b[p + 9] === 114 && b[p + 10] === 100 &&
        b[p + 11] === 115 && b[p + 12] === 58
      ) {
        return 6;
      }
      return -1;
    case 82: // R
      // Route:
      if (b[p + 1] === 111 && b[p + 2] === 117 && b[p + 3] === 116 && b[p + 4] === 101 && b[p + 5] === 58) return 9;
      // Record-Route:
      if (
        b[p + 1] === 101 && b[p + 2] === 99 && b[p + 3] === 111 && b[p + 4] === 114 && b[p + 5] === 100 &&
        b[p + 6] === 45 && b[p + 7] === 82 && b[p + 8] === 111 && b[p + 9] === 117 && b[p + 10] === 116 &&
        b[p + 11] === 101 && b[p + 12] === 58
      ) {
        return 10;
      }
      // Require:
      if (
        b[p + 1] === 101 && b[p + 2] === 113 && b[p + 3] === 117 && b[p + 4] === 105 && b[p + 5] === 114 &&
        b[p + 6] === 101 && b[p + 7] === 58
      ) {
        return 13;
      }
      // Reason:
      if (
        b[p + 1] === 101 && b[p + 2] === 97 && b[p + 3] === 115 && b[p + 4] === 111 && b[p + 5] === 110 &&
        b[p + 6] === 58
      ) {
        return 28;
      }
      return -1;
    case 65: // A
      // Allow:
      if (b[p + 1] === 108 && b[p + 2] === 108 && b[p + 3] === 111 && b[p + 4] === 119 && b[p + 5] === 58) return 11;
      // Accept:
      if (
        b[p + 1] === 99 && b[p + 2] === 99 && b[p + 3] === 101 && b[p + 4] === 112 && b[p + 5] === 116 &&
        b[p + 6] === 58
      ) {
        return 17;
      }
      // Authorization:
      if (
        b[p + 1] === 117 && b[p + 2] === 116 && b[p + 3] === 104 && b[p + 4] === 111 && b[p + 5] === 114 &&
        b[p + 6] === 105 && b[p + 7] === 122 && b[p + 8] === 97 && b[p + 9] === 116 && b[p + 10] === 105 &&
        b[p + 11] === 111 && b[p + 12] === 110 && b[p + 13] === 58
      ) {
        return 19;
      }
      // Allow-Events:
      if (
        b[p + 1] === 108 && b[p + 2] === 108 && b[p + 3] === 111 && b[p + 4] === 119 && b[p + 5] === 45 &&
        b[p + 6] === 69 && b[p + 7] === 118 && b[p + 8] === 101 && b[p + 9] === 110 && b[p + 10] === 116 &&
        b[p + 11] === 115 && b[p + 12] === 58
      ) {
        return 25;
      }
      return -1;
    case 83: // S
      // Supported:
      if (
        b[p + 1] === 117 && b[p + 2] === 112 && b[p + 3] === 112 && b[p + 4] === 111 && b[p + 5] === 114 &&
        b[p + 6] === 116 && b[p + 7] === 101 && b[p + 8] === 100 && b[p + 9] === 58
      ) {
        return 12;
      }
      // Server:
      if (
        b[p + 1] === 101 && b[p + 2] === 114 && b[p + 3] === 118 && b[p + 4] === 101 && b[p + 5] === 114 &&
        b[p + 6] === 58
      ) {
        return 15;
      }
      // Session-Expires:
      if (
        b[p + 1] === 101 && b[p + 2] === 115 && b[p + 3] === 115 && b[p + 4] === 105 && b[p + 5] === 111 &&
        b[p + 6] === 110 && b[p + 7] === 45 && b[p + 8] === 69 && b[p + 9] === 120 && b[p + 10] === 112 &&
        b[p + 11] === 105 && b[p + 12] === 114 && b[p + 13] === 101 && b[p + 14] === 115 && b[p + 15] === 58
      ) {
        return 23;
      }
      // Subscription-State:
      if (
        b[p + 1] === 117 && b[p + 2] === 98 && b[p + 3] === 115 && b[p + 4] === 99 && b[p + 5] === 114 &&
        b[p + 6] === 105 && b[p + 7] === 112 && b[p + 8] === 116 && b[p + 9] === 105 && b[p + 10] === 111 &&
        b[p + 11] === 110 && b[p + 12] === 45 && b[p + 13] === 83 && b[p + 14] === 116 && b[p + 15] === 97 &&
        b[p + 16] === 116 && b[p + 17] === 101 && b[p + 18] === 58
      ) {
        return 24;
      }
      // Subject:
      if (
        b[p + 1] === 117 && b[p + 2] === 98 && b[p + 3] === 106 && b[p + 4] === 101 && b[p + 5] === 99 &&
        b[p + 6] === 116 && b[p + 7] === 58
      ) {
        return 27;
      }
      return -1;
    case 85: // U
      // User-Agent:
      if (
        b[p + 1] === 115 && b[p + 2] === 101 && b[p + 3] === 114 && b[p + 4] === 45 && b[p + 5] === 65 &&
        b[p + 6] === 103 && b[p + 7] === 101 && b[p + 8] === 110 && b[p + 9] === 116 && b[p + 10] === 58
      ) {
        return 14;
      }
      return -1;
    case 69: // E
      // Expires:
      if (
        b[p + 1] === 120 && b[p + 2] === 112 && b[p + 3] === 105 && b[p + 4] === 114 && b[p + 5] === 101 &&
        b[p + 6] === 115 && b[p + 7] === 58
      ) {
        return 16;
      }
      // Event:
      if (b[p + 1] === 118 && b[p + 2] === 101 && b[p + 3] === 110 && b[p + 4] === 116 && b[p + 5] === 58) return 18;
      return -1;
    case 87: // W
      // WWW-Authenticate:
      if (
        b[p + 1] === 87 && b[p + 2] === 87 && b[p + 3] === 45 && b[p + 4] === 65 && b[p + 5] === 117 &&
        b[p + 6] === 116 && b[p + 7] === 104 && b[p + 8] === 101 && b[p + 9] === 110 && b[p + 10] === 116 &&
        b[p + 11] === 105 && b[p + 12] === 99 && b[p + 13] === 97 && b[p + 14] === 116 && b[p + 15] === 101 &&
        b[p + 16] === 58
      ) {
        return 20;
      }
      return -1;
    case 80: // P
      // Proxy-Authorization:
      if (
        b[p + 1] === 114 && b[p + 2] === 111 && b[p + 3] === 120 && b[p + 4] === 121 && b[p + 5] === 45 &&
        b[p + 6] === 65 && b[p + 7] === 117 && b[p + 8] === 116 && b[p + 9] === 104 && b[p + 10] === 111 &&
        b[p + 11] === 114 && b[p + 12] === 105 && b[p + 13] === 122 && b[p + 14] === 97 && b[p + 15] === 116 &&
        b[p + 16] === 105 && b[p + 17] === 111 && b[p + 18] === 110 && b[p + 19] === 58
      ) {
        return 21;
      }
      // Proxy-Authenticate:
      if (
        b[p + 1] === 114 && b[p + 2] === 111 && b[p + 3] === 120 && b[p + 4] === 121 && b[p + 5] === 45 &&
        b[p + 6] === 65 && b[p + 7] === 117 && b[p + 8] === 116 && b[p + 9] === 104 && b[p + 10] === 101 &&
        b[p + 11] === 110 && b[p + 12] === 116 && b[p + 13] === 105 && b[p + 14] === 99 && b[p + 15] === 97 &&
        b[p + 16] === 116 && b[p + 17] === 101 && b[p + 18] === 58
      ) {
        return 22;
      }
      // P-Asserted-Identity:
      if (
        b[p + 1] === 45 && b[p + 2] === 65 && b[p + 3] === 115 && b[p + 4] === 115 && b[p + 5] === 101 &&
        b[p + 6] === 114 && b[p + 7] === 116 && b[p + 8] === 101 && b[p + 9] === 100 && b[p + 10] === 45 &&
        b[p + 11] === 73 && b[p + 12] === 100 && b[p + 13] === 101 && b[p + 14] === 110 && b[p + 15] === 116 &&
        b[p + 16] === 105 && b[p + 17] === 116 && b[p + 18] === 121 && b[p + 19] === 58
      ) {
        return 29;
      }
      return -1;
    case 68: // D
      // Date:
      if (b[p + 1] === 97 && b[p + 2] === 116 && b[p + 3] === 101 && b[p + 4] === 58) return 26;
      return -1;
    default:
      return -1;
  }
}
