// Sizes as people read them, decimal (1 KB = 1000 bytes): the same text the pages print
// server-side (pages.filesize), so nothing changes when a script rewrites a size.

// Python rounds an exact tie to even ("1.25" -> "1.2"), toFixed rounds it up. The only
// exact ties at one decimal are values ending in .25 or .75; .75 rounds up either way.
function oneDecimal(value) {
  const quarters = value * 4;
  return Number.isInteger(quarters) && quarters % 4 === 1 ? `${Math.floor(value)}.2` : value.toFixed(1);
}

export function formatBytes(size) {
  let value = size;
  for (const unit of ["bytes", "KB", "MB", "GB", "TB"]) {
    if (value < 1000 || unit === "TB") return unit === "bytes" ? `${Math.floor(value)} bytes` : `${oneDecimal(value)} ${unit}`;
    value /= 1000;
  }
  return `${size} bytes`;
}
