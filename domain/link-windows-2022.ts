import type { LinkKind, LinkPartner, WindowDates } from './link-windows';

/** A window as an announcement gave it, with the announcement's words as its source. */
export interface AnnouncedWindow extends WindowDates {
  partner: LinkPartner;
  linkKind: LinkKind;
  source: string;
}

const ANNOUNCEMENT = '电商头条, 2022 (docs/rules.md source S4)';

/**
 * The windows of autumn 2022 (docs/rules.md §5.2, source S4) [src], as ops would enter them
 * through POST /v1/link-windows. From 1 Mar 2022 no Taobao Union link was allowed: that stop
 * is the absence of any window before 28 Oct. The Taobao Union window has no end: the
 * platform said to "follow later notices" (请关注后续公告), so a later version closes it.
 */
export const WINDOWS_2022: readonly AnnouncedWindow[] = [
  {
    partner: 'taobao',
    linkKind: 'union_product',
    opensOn: '2022-10-28',
    closesOn: null,
    phases: [],
    source: `${ANNOUNCEMENT}: 自2022年10月28日起，在快手直播间购物车、短视频购物车、商家详情页等恢复淘宝联盟的产品外链`,
  },
  {
    partner: 'tmall',
    linkKind: 'short_video_live',
    opensOn: '2022-10-28',
    closesOn: '2022-12-31',
    phases: [],
    source: `${ANNOUNCEMENT}: 10月28日至12月31日，短视频、直播间可以在天猫上投放商品链接`,
  },
  {
    partner: 'jd',
    linkKind: 'self_operated',
    opensOn: '2022-10-28',
    closesOn: '2022-11-30',
    phases: [
      { name: 'preview', from: '2022-10-28' },
      { name: 'full', from: '2022-10-29' },
    ],
    source: `${ANNOUNCEMENT}: 10月28日逐步开放京东产品在快手直播间的预告功能，10月29日正式恢复全面合作；10月28日至11月30日，可上线京东自营商品链接`,
  },
];
