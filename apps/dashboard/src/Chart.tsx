/** An Apache ECharts chart (tree-shaken to the series and components the panels use). */
import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { type EChartsCoreOption, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

/**
 * Draws `option` and keeps it drawn on resize. `onDrawn` is called after
 * each render has finished (the benchmark and tests wait on it).
 */
export function Chart(props: { option: EChartsCoreOption; label: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = el.current;
    if (!node) return undefined;
    const chart = init(node, undefined, { renderer: 'canvas' });
    chart.on('finished', () => node.setAttribute('data-drawn', 'true'));
    chart.setOption({ aria: { enabled: true }, animation: false, ...props.option });
    const resize = (): void => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [props.option]);
  return (
    <div
      ref={el}
      className="chart"
      role="img"
      aria-label={props.label}
      style={{ height: props.height ?? 260 }}
    />
  );
}
