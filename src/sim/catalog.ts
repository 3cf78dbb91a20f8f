/**
 * What the simulated streams are made of: Twitch's broadcast languages and
 * categories, weighted roughly like the live directory on a normal day.
 * Facts only (codes, ids, names, rough shares), no behaviour.
 *
 * @module
 */

/** A broadcast language as Helix reports it, with its share of live channels. */
export interface Language {
  /** Helix `language`: an ISO 639-1 code, or one of Twitch's own (`zh-hk`, `asl`, `other`). */
  code: string;
  /** Relative share of live channels (any unit; only ratios matter). */
  weight: number;
  /** The tag streamers of that language usually set, or "" for none. */
  tag: string;
}

/** Broadcast languages, biggest first. */
export const LANGUAGES: readonly Language[] = [
  { code: "en", weight: 360, tag: "English" },
  { code: "es", weight: 100, tag: "Español" },
  { code: "pt", weight: 70, tag: "Português" },
  { code: "de", weight: 60, tag: "Deutsch" },
  { code: "ru", weight: 60, tag: "Русский" },
  { code: "fr", weight: 50, tag: "Français" },
  { code: "ja", weight: 40, tag: "日本語" },
  { code: "ko", weight: 25, tag: "한국어" },
  { code: "it", weight: 25, tag: "Italiano" },
  { code: "zh", weight: 20, tag: "中文" },
  { code: "pl", weight: 20, tag: "Polski" },
  { code: "tr", weight: 20, tag: "Türkçe" },
  { code: "uk", weight: 10, tag: "Українська" },
  { code: "ar", weight: 10, tag: "العربية" },
  { code: "th", weight: 10, tag: "ภาษาไทย" },
  { code: "nl", weight: 10, tag: "Nederlands" },
  { code: "id", weight: 6, tag: "Indonesia" },
  { code: "vi", weight: 6, tag: "TiếngViệt" },
  { code: "sv", weight: 6, tag: "Svenska" },
  { code: "cs", weight: 6, tag: "Čeština" },
  { code: "hu", weight: 5, tag: "Magyar" },
  { code: "tl", weight: 4, tag: "Filipino" },
  { code: "fi", weight: 4, tag: "Suomi" },
  { code: "ro", weight: 4, tag: "Română" },
  { code: "zh-hk", weight: 3, tag: "中文" },
  { code: "da", weight: 3, tag: "Dansk" },
  { code: "no", weight: 3, tag: "Norsk" },
  { code: "el", weight: 3, tag: "Ελληνικά" },
  { code: "hi", weight: 3, tag: "हिन्दी" },
  { code: "ms", weight: 2, tag: "Melayu" },
  { code: "bg", weight: 2, tag: "Български" },
  { code: "sk", weight: 2, tag: "Slovenčina" },
  { code: "ca", weight: 2, tag: "Català" },
  { code: "he", weight: 1, tag: "עברית" },
  { code: "asl", weight: 0.5, tag: "ASL" },
  { code: "other", weight: 10, tag: "" },
  // Codes outside ISO 639-1 and Twitch's own, never drawn: only SIM_UNLISTED_LANGUAGES streams carry
  // them, so that a client can show it finds streams whatever language Twitch reports.
  { code: "en-gb", weight: 0, tag: "English" },
  { code: "pt-br", weight: 0, tag: "Português" },
  { code: "es-mx", weight: 0, tag: "Español" },
  { code: "fr-ca", weight: 0, tag: "Français" },
  { code: "de-at", weight: 0, tag: "Deutsch" },
];

/** How many entries at the end of {@link LANGUAGES} are unlisted codes (weight 0). */
export const UNLISTED_LANGUAGE_COUNT = 5;

/** A Twitch category (game) as Helix names it, with its share of live channels. */
export interface Game {
  /** Helix `game_id`; "" for a stream without a category. */
  id: string;
  /** Helix `game_name`; "" for a stream without a category. */
  name: string;
  /** Relative share of live channels. */
  weight: number;
  /** Tags that fit the category, drawn into some streams' tags. */
  tags: readonly string[];
}

/** Categories with a realistic long-tail mix; the first entry is "no category". */
export const GAMES: readonly Game[] = [
  { id: "", name: "", weight: 30, tags: [] },
  { id: "509658", name: "Just Chatting", weight: 120, tags: ["Chatting", "IRL", "AMA"] },
  { id: "32982", name: "Grand Theft Auto V", weight: 60, tags: ["Roleplay", "GTARP", "NoPixel"] },
  { id: "33214", name: "Fortnite", weight: 50, tags: ["BattleRoyale", "ZeroBuild"] },
  { id: "27471", name: "Minecraft", weight: 50, tags: ["Survival", "Modded", "Hardcore"] },
  { id: "21779", name: "League of Legends", weight: 45, tags: ["Ranked", "Coaching", "MOBA"] },
  { id: "516575", name: "VALORANT", weight: 40, tags: ["FPS", "Ranked", "Radiant"] },
  { id: "32399", name: "Counter-Strike", weight: 35, tags: ["FPS", "Faceit", "Competitive"] },
  { id: "512710", name: "Call of Duty: Warzone", weight: 30, tags: ["FPS", "BattleRoyale"] },
  { id: "511224", name: "Apex Legends", weight: 30, tags: ["FPS", "BattleRoyale", "Ranked"] },
  { id: "515025", name: "Overwatch 2", weight: 20, tags: ["FPS", "Competitive"] },
  { id: "29595", name: "Dota 2", weight: 20, tags: ["MOBA", "Ranked"] },
  { id: "491487", name: "Dead by Daylight", weight: 20, tags: ["Horror", "Survivor", "Killer"] },
  { id: "18122", name: "World of Warcraft", weight: 20, tags: ["MMORPG", "Raiding", "Classic"] },
  { id: "26936", name: "Music", weight: 20, tags: ["Music", "LiveMusic", "Guitar", "Singing"] },
  { id: "263490", name: "Rust", weight: 15, tags: ["Survival", "PvP"] },
  { id: "493057", name: "PUBG: BATTLEGROUNDS", weight: 15, tags: ["BattleRoyale", "FPS"] },
  { id: "460630", name: "Tom Clancy's Rainbow Six Siege", weight: 15, tags: ["FPS", "Tactical"] },
  { id: "509660", name: "Art", weight: 15, tags: ["Art", "Drawing", "DigitalArt", "Vtuber"] },
  {
    id: "512953",
    name: "Elden Ring",
    weight: 12,
    tags: ["Soulslike", "FirstPlaythrough", "Blind"],
  },
  { id: "497057", name: "Destiny 2", weight: 10, tags: ["FPS", "Raid", "Looter"] },
  { id: "138585", name: "Hearthstone", weight: 10, tags: ["CardGame", "Battlegrounds"] },
  { id: "513143", name: "Teamfight Tactics", weight: 10, tags: ["AutoBattler", "Ranked"] },
  { id: "27546", name: "World of Tanks", weight: 10, tags: ["Tanks", "PvP"] },
  { id: "65632", name: "DayZ", weight: 10, tags: ["Survival", "PvP"] },
  { id: "498566", name: "Slots", weight: 10, tags: ["Casino", "Gambling"] },
  { id: "515024", name: "Diablo IV", weight: 8, tags: ["ARPG", "Hardcore", "Looter"] },
  { id: "29307", name: "Path of Exile", weight: 8, tags: ["ARPG", "League", "Builds"] },
  { id: "30921", name: "Rocket League", weight: 8, tags: ["Ranked", "Cars"] },
  { id: "417752", name: "Talk Shows & Podcasts", weight: 8, tags: ["Podcast", "News", "Debate"] },
  {
    id: "504461",
    name: "Super Smash Bros. Ultimate",
    weight: 6,
    tags: ["FightingGames", "Tournament"],
  },
  { id: "490744", name: "Stardew Valley", weight: 6, tags: ["Cozy", "Farming"] },
  { id: "510218", name: "Among Us", weight: 5, tags: ["Social", "ViewerGames"] },
  { id: "488190", name: "Poker", weight: 5, tags: ["Poker", "Cards"] },
  { id: "29452", name: "Virtual Casino", weight: 5, tags: ["Casino"] },
  { id: "2748", name: "Magic: The Gathering", weight: 5, tags: ["CardGame", "Draft"] },
  { id: "743", name: "Chess", weight: 5, tags: ["Chess", "Blitz", "Educational"] },
  { id: "509670", name: "Science & Technology", weight: 4, tags: ["Science", "Educational"] },
  {
    id: "1469308723",
    name: "Software and Game Development",
    weight: 4,
    tags: ["Programming", "GameDev", "Coding", "Educational"],
  },
  { id: "509659", name: "ASMR", weight: 4, tags: ["ASMR", "Relaxing"] },
  { id: "509673", name: "Makers & Crafting", weight: 3, tags: ["Crafting", "DIY"] },
  { id: "509667", name: "Food & Drink", weight: 3, tags: ["Cooking", "Food"] },
  { id: "27284", name: "Retro", weight: 3, tags: ["Retro", "Speedrun", "NES"] },
  { id: "66082", name: "Games + Demos", weight: 3, tags: ["Indie", "Demos"] },
  { id: "518203", name: "Sports", weight: 3, tags: ["Sports", "Football"] },
  { id: "490422", name: "StarCraft II", weight: 2, tags: ["RTS", "Ladder"] },
  { id: "509663", name: "Special Events", weight: 2, tags: ["Event", "Charity"] },
  { id: "494131", name: "Little Nightmares", weight: 1, tags: ["Horror", "Puzzle"] },
];

/** Tags any stream may carry, whatever its category. */
export const COMMON_TAGS: readonly string[] = [
  "Chill",
  "Casual",
  "Competitive",
  "Funny",
  "Interactive",
  "Variety",
  "Gaming",
  "DropsEnabled",
  "NoBackseating",
  "Community",
  "FamilyFriendly",
  "LGBTQIAPlus",
  "Vtuber",
  "Speedrun",
  "Challenge",
  "Cozy",
  "Subathon",
  "Educational",
  "MentalHealth",
  "Bilingual",
  "ViewerGames",
  "NoSpoilers",
  "Chatty",
  "LateNight",
  "Streamer",
  "Esports",
  "PlayingWithViewers",
  "EarlyAccess",
  "Modded",
  "Hardcore",
];
