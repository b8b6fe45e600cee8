/**
 * Recognises the methods of RFC 3261 and its extensions at the start of a request line, followed by its space,
 * with the bytes as constants in the comparisons (see `spelled-header-name.ts`); the test checks them against
 * `SPELLED_METHODS`. The parser returns these strings, so a known method is one constant compared by identity.
 */

/** The methods recognised, in the order of the indices `spelledMethod` returns. */
export const SPELLED_METHODS: readonly string[] = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
];

/**
 * The index in `SPELLED_METHODS` of the method that, followed by a space, starts at b[p]; -1 for none. It stops
 * at the first byte that differs.
 */
export function spelledMethod(b: Uint8Array, p: number): number {
  switch (b[p]) {
    case 73: // I
      // INVITE SP
      if (
        b[p + 1] === 78 && b[p + 2] === 86 && b[p + 3] === 73 && b[p + 4] === 84 && b[p + 5] === 69 && b[p + 6] === 32
      ) {
        return 0;
      }
      // INFO SP
      if (b[p + 1] === 78 && b[p + 2] === 70 && b[p + 3] === 79 && b[p + 4] === 32) return 10;
      return -1;
    case 65: // A
      // ACK SP
      if (b[p + 1] === 67 && b[p + 2] === 75 && b[p + 3] === 32) return 1;
      return -1;
    case 66: // B
      // BYE SP
      if (b[p + 1] === 89 && b[p + 2] === 69 && b[p + 3] === 32) return 2;
      return -1;
    case 67: // C
      // CANCEL SP
      if (
        b[p + 1] === 65 && b[p + 2] === 78 && b[p + 3] === 67 && b[p + 4] === 69 && b[p + 5] === 76 && b[p + 6] === 32
      ) {
        return 3;
      }
      return -1;
    case 79: // O
      // OPTIONS SP
      if (
        b[p + 1] === 80 && b[p + 2] === 84 && b[p + 3] === 73 && b[p + 4] === 79 && b[p + 5] === 78 &&
        b[p + 6] === 83 && b[p + 7] === 32
      ) {
        return 4;
      }
      return -1;
    case 82: // R
      // REGISTER SP
      if (
        b[p + 1] === 69 && b[p + 2] === 71 && b[p + 3] === 73 && b[p + 4] === 83 && b[p + 5] === 84 &&
        b[p + 6] === 69 && b[p + 7] === 82 && b[p + 8] === 32
      ) {
        return 5;
      }
      // REFER SP
      if (b[p + 1] === 69 && b[p + 2] === 70 && b[p + 3] === 69 && b[p + 4] === 82 && b[p + 5] === 32) return 11;
      return -1;
    case 80: // P
      // PRACK SP
      if (b[p + 1] === 82 && b[p + 2] === 65 && b[p + 3] === 67 && b[p + 4] === 75 && b[p + 5] === 32) return 6;
      // PUBLISH SP
      if (
        b[p + 1] === 85 && b[p + 2] === 66 && b[p + 3] === 76 && b[p + 4] === 73 && b[p + 5] === 83 &&
        b[p + 6] === 72 && b[p + 7] === 32
      ) {
        return 9;
      }
      return -1;
    case 83: // S
      // SUBSCRIBE SP
      if (
        b[p + 1] === 85 && b[p + 2] === 66 && b[p + 3] === 83 && b[p + 4] === 67 && b[p + 5] === 82 &&
        b[p + 6] === 73 && b[p + 7] === 66 && b[p + 8] === 69 && b[p + 9] === 32
      ) {
        return 7;
      }
      return -1;
    case 78: // N
      // NOTIFY SP
      if (
        b[p + 1] === 79 && b[p + 2] === 84 && b[p + 3] === 73 && b[p + 4] === 70 && b[p + 5] === 89 && b[p + 6] === 32
      ) {
        return 8;
      }
      return -1;
    case 77: // M
      // MESSAGE SP
      if (
        b[p + 1] === 69 && b[p + 2] === 83 && b[p + 3] === 83 && b[p + 4] === 65 && b[p + 5] === 71 &&
        b[p + 6] === 69 && b[p + 7] === 32
      ) {
        return 12;
      }
      return -1;
    case 85: // U
      // UPDATE SP
      if (
        b[p + 1] === 80 && b[p + 2] === 68 && b[p + 3] === 65 && b[p + 4] === 84 && b[p + 5] === 69 && b[p + 6] === 32
      ) {
        return 13;
      }
      return -1;
    default:
      return -1;
  }
}
