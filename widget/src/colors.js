// Accent colour handling: whatever colour the site owner picks, text stays >= 4.5:1.

function parse(color) {
  const probe = document.createElement("span");
  probe.style.color = "#000";
  probe.style.color = color;
  probe.style.display = "none";
  document.body.appendChild(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  const match = value.match(/rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

function luminance([r, g, b]) {
  const channel = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const hex = (rgb) => "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
const mix = (rgb, target, t) => rgb.map((c, i) => c + (target[i] - c) * t);

const WHITE = [255, 255, 255];
const INK = [17, 24, 28];
const TINT = [238, 243, 245]; // the bot bubble background

/** Colours derived from the accent: fill, text on the fill, and an ink for text on light. */
export function accentPalette(accent, fallback) {
  const rgb = parse(accent) || parse(fallback);
  // Text on the accent fill: white if it reads, otherwise near-black; if neither reaches
  // 4.5:1 (mid-tones), darken the fill until white does.
  let fill = rgb;
  let onFill = contrast(fill, WHITE) >= 4.5 ? WHITE : INK;
  if (contrast(fill, onFill) < 4.5) {
    onFill = WHITE;
    for (let t = 0.05; t <= 1 && contrast(fill, WHITE) < 4.5; t += 0.05) fill = mix(rgb, [0, 0, 0], t);
  }
  // Accent-coloured text (links, "Source") on white and on the bubble tint.
  let ink = rgb;
  for (let t = 0.05; t <= 1 && Math.min(contrast(ink, WHITE), contrast(ink, TINT)) < 4.5; t += 0.05) {
    ink = mix(rgb, [0, 0, 0], t);
  }
  return {
    accent: hex(fill),
    onAccent: hex(onFill),
    ink: hex(ink),
    soft: hex(mix(rgb, WHITE, 0.88)),
  };
}
