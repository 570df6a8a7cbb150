// Candlesticks and volume with lightweight-charts (a library made for price charts). Prices
// stay in fen; the axis formats them for the locale. A new series (another instrument or
// interval) is fitted to its data: the latest bars fill the width, a few bars stay of a sensible
// width instead of stretching; live updates then keep the view where the trainee left it.
import {
  CandlestickSeries,
  ColorType,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
  createChart,
} from "lightweight-charts";
import { useEffect, useRef } from "preact/hooks";
import { integer, locale, price, t } from "../i18n";
import { type Bar, INTERVALS, type Interval } from "../market";
import { Panel } from "./Panel";

const UP = "#c62828"; // in China's markets red is up and green is down (styles.css: --buy, --sell)
const DOWN = "#17753f";
const BARS_SHOWN_MAX = 120; // a longer series opens on its latest bars; scroll back for the rest
const BAR_SPACING_MAX_PX = 24; // a short series is not stretched into a few giant candles

export function PriceChart(props: {
  bars: Bar[];
  interval: Interval;
  tickFen: number;
  onInterval: (interval: Interval) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const volume = useRef<ISeriesApi<"Histogram"> | null>(null);
  const lang = locale();

  useEffect(() => {
    const created = createChart(box.current!, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#56606b", fontSize: 11 },
      grid: { vertLines: { color: "#eef0f2" }, horzLines: { color: "#eef0f2" } },
      timeScale: { timeVisible: true, secondsVisible: false, maxBarSpacing: BAR_SPACING_MAX_PX, rightOffset: 2 },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.28 } },
    });
    candles.current = created.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderUpColor: UP,
      borderDownColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    volume.current = created.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      color: "#9aa5b1",
      lastValueVisible: false,
      priceLineVisible: false,
    });
    created.priceScale("volume").applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    chart.current = created;
    return () => {
      created.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.applyOptions({ localization: { locale: lang } });
    candles.current?.applyOptions({
      priceFormat: { type: "custom", minMove: props.tickFen, formatter: (fen: number) => price(fen) },
    });
    volume.current?.applyOptions({ priceFormat: { type: "custom", minMove: 1, formatter: (q: number) => integer(q) } });
  }, [lang, props.tickFen]);

  // The series the chart was last fitted to (its first bar), so that live updates do not refit.
  const fitted = useRef<number | null>(null);
  useEffect(() => {
    const time = (bar: Bar) => bar.time as UTCTimestamp;
    candles.current?.setData(props.bars.map((b) => ({ time: time(b), open: b.open, high: b.high, low: b.low, close: b.close })));
    volume.current?.setData(
      props.bars.map((b) => ({ time: time(b), value: b.volume, color: b.close >= b.open ? UP : DOWN })),
    );
    const first = props.bars[0]?.time ?? null;
    if (first === fitted.current || !chart.current) return;
    fitted.current = first;
    const count = props.bars.length;
    const scale = chart.current.timeScale();
    if (count <= BARS_SHOWN_MAX) scale.fitContent();
    else scale.setVisibleLogicalRange({ from: count - BARS_SHOWN_MAX, to: count + 1 });
  }, [props.bars]);

  // Another instrument or interval: fit the next series afresh.
  useEffect(() => {
    fitted.current = null;
  }, [props.interval]);

  const intervals = (
    <span class="segmented" role="group" aria-label={t("chart.interval")}>
      {INTERVALS.map((interval) => (
        <button
          type="button"
          key={interval}
          class={interval === props.interval ? "on" : ""}
          aria-pressed={interval === props.interval}
          onClick={() => props.onInterval(interval)}
        >
          {t(`chart.${interval}`)}
        </button>
      ))}
    </span>
  );
  return (
    <Panel name="chart" title={t("chart.title")} extra={intervals}>
      <div class="chart" ref={box} data-testid="chart" />
      {props.bars.length === 0 && <p class="muted small chart-empty">{t("chart.empty")}</p>}
    </Panel>
  );
}
