// Where trainees open the server: the address on every login card and in every link
// (publicAddress.ts). The instructor sets it here (remembered in this browser) or keeps the
// server's or this console's own; a console opened at a loopback address gets none, says why,
// and offers the addresses the server answers at on the classroom's network.
import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n";
import { type Address, type ServerAddress, checkBase } from "./publicAddress";

export function AddressPanel(props: {
  address: Address;
  server: ServerAddress | null;
  onSave: (base: string | null) => void;
}) {
  const { address, server, onSave } = props;
  const [text, setText] = useState(address.base ?? "");
  const [error, setError] = useState<(() => string) | null>(null); // said in the language shown
  useEffect(() => setText(address.base ?? ""), [address.base]);

  function use(value: string) {
    const checked = checkBase(value);
    if (!checked.ok) {
      const host = checked.host;
      setError(() => () => (checked.reason === "loopback" ? t("logins.addressIsLoopback", { host }) : t("logins.addressInvalid")));
      return;
    }
    setError(null);
    onSave(checked.base);
  }

  const candidates = server?.candidates ?? [];
  return (
    <div class="address-box no-print" data-testid="public-address">
      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          use(text);
        }}
      >
        <label class="field grow">
          {t("logins.address")}
          <input
            name="public-url"
            value={text}
            placeholder="http://192.168.1.20:8000"
            autoComplete="off"
            autoCapitalize="off"
            spellcheck={false}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" data-testid="address-use">
          {t("logins.addressUse")}
        </button>
        {address.source === "console" && (
          <button
            type="button"
            data-testid="address-reset"
            onClick={() => {
              setError(null);
              onSave(null);
            }}
          >
            {t("logins.addressReset")}
          </button>
        )}
      </form>
      {error && (
        <p class="error" role="alert" data-testid="address-error">
          {error()}
        </p>
      )}
      {address.base && address.source && (
        <p class="small muted" data-testid="address-source">
          {t(`logins.addressFrom.${address.source}`, { base: address.base })}
        </p>
      )}
      {!address.base && (
        <div class="address-missing" role="status" data-testid="address-missing">
          <p class="warn">{t("logins.addressLoopback", { host: location.host })}</p>
          <p>{t("logins.addressAsk")}</p>
          {server?.loopback_only && <p>{t("logins.serverLoopback", { host: server.listen_host ?? "127.0.0.1" })}</p>}
          {candidates.length > 0 && (
            <p class="row">
              <span>{t("logins.addressOffer")}</span>
              {candidates.map((candidate) => (
                <button type="button" class="small" key={candidate} data-testid="address-candidate" onClick={() => use(candidate)}>
                  {candidate}
                </button>
              ))}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
