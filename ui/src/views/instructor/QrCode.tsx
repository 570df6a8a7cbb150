// A QR code as crisp SVG (qrcode-generator encodes; this draws the dark modules as one path),
// with the four-module quiet zone a scanner needs. The text is ASCII (a login link).
import qrcode from "qrcode-generator";
import { useMemo } from "preact/hooks";

const QUIET_MODULES = 4;

export function QrCode({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const { size, path } = useMemo(() => {
    const code = qrcode(0, "M"); // the smallest version that holds the text; 15 % may be lost
    code.addData(text, "Byte");
    code.make();
    const count = code.getModuleCount();
    const dark: string[] = [];
    for (let row = 0; row < count; row += 1)
      for (let col = 0; col < count; col += 1)
        if (code.isDark(row, col)) dark.push(`M${col + QUIET_MODULES} ${row + QUIET_MODULES}h1v1h-1z`);
    return { size: count + 2 * QUIET_MODULES, path: dark.join("") };
  }, [text]);
  return (
    <svg
      class="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      shape-rendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
