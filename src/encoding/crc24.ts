/** CRC-24 of OpenPGP (RFC 4880 §6.1): init 0xB704CE, poly 0x1864CFB, MSB first, no final XOR. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 16;
    for (let j = 0; j < 8; j++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
    t[i] = crc & 0xffffff;
  }
  return t;
})();

export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ (TABLE[((crc >>> 16) ^ (data[i] as number)) & 0xff] as number)) & 0xffffff;
  }
  return crc;
}
