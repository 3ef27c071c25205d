// qr.js — a QR code encoder (ISO/IEC 18004) small enough to read: byte mode, error
// correction level M, versions 1–20 (up to 666 bytes: an otpauth:// URI with a long
// Chinese, percent-encoded username fits with room to spare). No dependency, no CDN.
//
// How a QR code is built, in the order the functions below run:
// 1. Data bits: mode 0100 (bytes), the byte count (8 bits up to version 9, 16 from 10),
//    the bytes, a terminator, then pad bytes 0xEC 0x11 … to the version's capacity.
// 2. Error correction: the data is cut into blocks; each block gets Reed–Solomon
//    check bytes over GF(256) (polynomial x^8+x^4+x^3+x^2+1, 0x11D); the blocks are
//    interleaved byte by byte, data first, then check bytes.
// 3. The grid: finder squares in three corners, timing lines, alignment squares,
//    format and version information are "function modules"; the codewords fill the
//    rest in a two-column zigzag from the bottom right.
// 4. A mask (one of eight patterns) is XORed over the data modules to avoid large
//    blocks and finder look-alikes; the one with the lowest penalty is kept, and its
//    number is written into the format information.
// The approach and tables follow Project Nayuki's reference encoder (MIT), trimmed.

const ECC_LEVEL_M_FORMAT_BITS = 0; // ISO 18004 Table 12: M = 00
// Per version (index 1–20), level M: check bytes per block, and number of blocks.
const ECC_BYTES_PER_BLOCK = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26];
const BLOCK_COUNT = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16];
export const MAX_VERSION = 20;

/** The modules of a QR code for `text` (UTF-8): an array of rows of booleans (true = dark). */
export function encodeQr(text) {
  const bytes = new TextEncoder().encode(text);
  const version = smallestVersion(bytes.length);
  const codewords = addErrorCorrection(dataCodewords(bytes, version), version);
  const grid = new Grid(version);
  grid.drawFunctionPatterns();
  grid.drawCodewords(codewords);
  grid.applyBestMask();
  return grid.modules;
}

function rawDataModules(version) {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignments = Math.floor(version / 7) + 2;
    modules -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) modules -= 36;
  }
  return modules;
}

function dataCapacityBytes(version) {
  return Math.floor(rawDataModules(version) / 8) - ECC_BYTES_PER_BLOCK[version] * BLOCK_COUNT[version];
}

function countBits(version) {
  return version <= 9 ? 8 : 16;
}

function smallestVersion(length) {
  for (let version = 1; version <= MAX_VERSION; version++) {
    const bits = 4 + countBits(version) + 8 * length;
    if (bits <= dataCapacityBytes(version) * 8) return version;
  }
  throw new RangeError("text too long for a QR code of version " + MAX_VERSION);
}

function dataCodewords(bytes, version) {
  const bits = [];
  const push = (value, length) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  push(0b0100, 4);
  push(bytes.length, countBits(version));
  bytes.forEach((byte) => push(byte, 8));
  const capacityBits = dataCapacityBytes(version) * 8;
  push(0, Math.min(4, capacityBits - bits.length));
  push(0, (8 - (bits.length % 8)) % 8);
  const codewords = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(parseInt(bits.slice(i, i + 8).join(""), 2));
  for (let pad = 0xec; codewords.length < capacityBits / 8; pad ^= 0xec ^ 0x11) codewords.push(pad);
  return codewords;
}

// --- Reed–Solomon over GF(256) ----------------------------------------------------------

function gfMultiply(x, y) {
  let product = 0;
  for (let i = 7; i >= 0; i--) {
    product = (product << 1) ^ ((product >>> 7) * 0x11d);
    product ^= ((y >>> i) & 1) * x;
  }
  return product;
}

function rsDivisor(degree) {
  const result = new Array(degree - 1).fill(0).concat([1]);
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < result.length; j++) {
      result[j] = gfMultiply(result[j], root);
      if (j + 1 < result.length) result[j] ^= result[j + 1];
    }
    root = gfMultiply(root, 0x02);
  }
  return result;
}

function rsRemainder(data, divisor) {
  const result = divisor.map(() => 0);
  for (const byte of data) {
    const factor = byte ^ result.shift();
    result.push(0);
    divisor.forEach((coefficient, i) => { result[i] ^= gfMultiply(coefficient, factor); });
  }
  return result;
}

function addErrorCorrection(data, version) {
  const blockCount = BLOCK_COUNT[version];
  const eccLength = ECC_BYTES_PER_BLOCK[version];
  const rawCodewords = Math.floor(rawDataModules(version) / 8);
  const shortBlocks = blockCount - (rawCodewords % blockCount);
  const shortBlockLength = Math.floor(rawCodewords / blockCount);
  const divisor = rsDivisor(eccLength);
  const blocks = [];
  for (let i = 0, offset = 0; i < blockCount; i++) {
    const block = data.slice(offset, offset + shortBlockLength - eccLength + (i < shortBlocks ? 0 : 1));
    offset += block.length;
    const ecc = rsRemainder(block, divisor);
    if (i < shortBlocks) block.push(0); // a placeholder, skipped when interleaving
    blocks.push(block.concat(ecc));
  }
  const result = [];
  for (let i = 0; i < blocks[0].length; i++) {
    blocks.forEach((block, j) => {
      if (i !== shortBlockLength - eccLength || j >= shortBlocks) result.push(block[i]);
    });
  }
  return result;
}

// --- the grid ----------------------------------------------------------------------------

const MASKS = [
  (x, y) => (x + y) % 2 === 0,
  (x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

class Grid {
  constructor(version) {
    this.version = version;
    this.size = version * 4 + 17;
    this.modules = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.isFunction = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }

  set(x, y, dark) {
    this.modules[y][x] = dark;
    this.isFunction[y][x] = true;
  }

  drawFunctionPatterns() {
    const size = this.size;
    for (let i = 0; i < size; i++) {
      this.set(6, i, i % 2 === 0); // timing lines
      this.set(i, 6, i % 2 === 0);
    }
    this.drawFinder(3, 3);
    this.drawFinder(size - 4, 3);
    this.drawFinder(3, size - 4);
    const positions = this.alignmentPositions();
    const last = positions.length - 1;
    positions.forEach((x, i) => positions.forEach((y, j) => {
      const overlapsFinder = (i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0);
      if (!overlapsFinder) this.drawAlignment(x, y);
    }));
    this.drawFormatBits(0); // reserved now, rewritten with the chosen mask
    this.drawVersionBits();
  }

  drawFinder(centerX, centerY) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = centerX + dx;
        const y = centerY + dy;
        const ring = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && x < this.size && y >= 0 && y < this.size) this.set(x, y, ring !== 2 && ring !== 4);
      }
    }
  }

  drawAlignment(centerX, centerY) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) this.set(centerX + dx, centerY + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }

  alignmentPositions() {
    if (this.version === 1) return [];
    const count = Math.floor(this.version / 7) + 2;
    const step = Math.floor((this.version * 8 + count * 3 + 5) / (count * 4 - 4)) * 2;
    const positions = [6];
    for (let position = this.size - 7; positions.length < count; position -= step) positions.splice(1, 0, position);
    return positions;
  }

  drawFormatBits(mask) {
    // 5 data bits (level, mask), 10 BCH check bits (generator 0x537), XOR 0x5412.
    const data = (ECC_LEVEL_M_FORMAT_BITS << 3) | mask;
    let remainder = data;
    for (let i = 0; i < 10; i++) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
    const bits = ((data << 10) | remainder) ^ 0x5412;
    const bit = (i) => ((bits >>> i) & 1) !== 0;
    const size = this.size;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(size - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, size - 15 + i, bit(i));
    this.set(8, size - 8, true); // the dark module, always there
  }

  drawVersionBits() {
    if (this.version < 7) return;
    let remainder = this.version; // 6 data bits, 12 BCH check bits (generator 0x1F25)
    for (let i = 0; i < 12; i++) remainder = (remainder << 1) ^ ((remainder >>> 11) * 0x1f25);
    const bits = (this.version << 12) | remainder;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) !== 0;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.set(a, b, dark);
      this.set(b, a, dark);
    }
  }

  drawCodewords(codewords) {
    let bitIndex = 0;
    const totalBits = codewords.length * 8;
    for (let right = this.size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5; // skip the vertical timing line
      for (let vertical = 0; vertical < this.size; vertical++) {
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? this.size - 1 - vertical : vertical;
          if (!this.isFunction[y][x] && bitIndex < totalBits) {
            this.modules[y][x] = ((codewords[bitIndex >>> 3] >>> (7 - (bitIndex & 7))) & 1) !== 0;
            bitIndex++;
          }
        }
      }
    }
  }

  applyMask(mask) {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        if (!this.isFunction[y][x] && MASKS[mask](x, y)) this.modules[y][x] = !this.modules[y][x];
      }
    }
  }

  applyBestMask() {
    let best = 0;
    let bestPenalty = Infinity;
    for (let mask = 0; mask < MASKS.length; mask++) {
      this.applyMask(mask);
      this.drawFormatBits(mask);
      const score = penalty(this.modules);
      if (score < bestPenalty) {
        best = mask;
        bestPenalty = score;
      }
      this.applyMask(mask); // XOR again: undone
    }
    this.applyMask(best);
    this.drawFormatBits(best);
  }
}

/** ISO 18004 §8.8.2: runs of five or more, 2×2 blocks, finder look-alikes, dark/light balance. */
function penalty(modules) {
  const size = modules.length;
  const columns = modules.map((_, x) => modules.map((row) => row[x]));
  let score = 0;
  for (const line of modules.concat(columns)) {
    let run = 1;
    for (let i = 1; i <= size; i++) {
      if (i < size && line[i] === line[i - 1]) {
        run++;
      } else {
        if (run >= 5) score += run - 2;
        run = 1;
      }
    }
    const text = line.map((dark) => (dark ? "1" : "0")).join("");
    score += 40 * ((text.match(/(?=10111010000|00001011101)/g) || []).length);
  }
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const dark = modules[y][x];
      if (dark === modules[y][x + 1] && dark === modules[y + 1][x] && dark === modules[y + 1][x + 1]) score += 3;
    }
  }
  const darkCount = modules.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
  const total = size * size;
  score += 10 * Math.floor(Math.abs(darkCount * 20 - total * 10) / total);
  return score;
}

/** The QR code of `text` as an SVG element, `moduleSize` CSS pixels a module, with the
 * four-module quiet zone readers need (ISO 18004 §6.3.8). */
export function qrSvg(text, moduleSize = 4) {
  const modules = encodeQr(text);
  const quiet = 4;
  const extent = modules.length + 2 * quiet;
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", `0 0 ${extent} ${extent}`);
  svg.setAttribute("width", String(extent * moduleSize));
  svg.setAttribute("height", String(extent * moduleSize));
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(svgNs, "rect");
  background.setAttribute("width", String(extent));
  background.setAttribute("height", String(extent));
  background.setAttribute("fill", "#fff");
  svg.appendChild(background);
  let path = "";
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
  }));
  const darkModules = document.createElementNS(svgNs, "path");
  darkModules.setAttribute("d", path);
  darkModules.setAttribute("fill", "#000");
  svg.appendChild(darkModules);
  return svg;
}
