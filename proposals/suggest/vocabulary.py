"""The starting vocabulary of each theme, in Russian, Kazakh and English.

Words residents use for each theme, in their dictionary form; the suggester stems them.
Written for the suggester and kept apart from the evaluation texts in eval/, which were
written separately and never consulted here. It was grown against the development texts
in dev/, written for that and apart from eval/ (`bench/dev_suggester.py` shows their
misses): words residents use for each theme were added, and words that misled taken out.
A second round grew it against appeals to a city administration (dev/appeals-*.jsonl,
written in the style of real ones: street lights, manholes, trees, snow and ice,
rubbish, dogs, potholes, buses, heating and water, management companies, benefits,
clinics). Snow, ice and icicles are housing's (yards and roofs, the management
company's work); smells are shared with ecology. Taken out as misleading in appeals:
"администрация" and "управление" (the addressee, or a department of any theme),
"площадь" (a flat's floor area, a square named in an address), "лежачий" (a bedridden
patient more often than a speed bump), "сель" (its stem is that of "село" and of "сели",
sat down), "запах" (drew texts about a building to ecology), "капитальный" (roads and
schools have capital repairs too). Not added: "свет" (light in "не горит свет на улице",
electricity in "отключили свет"), "сертификат" (vaccination, maternity capital or
housing), "компенсация", "стая" and "ОДН"/"СВО", whose stems are those of "ста",
"одна" and "свои".

Every word weighs 1 (the suggester has no per-word weights) and a word in several
themes' lists is shared between them, so a list holds words that say what a proposal is
about, not where it happened or what broke: "двор", "дом", "улица", "работает",
"district", "park" and "жұмыс" (as in "жұмыс істемейді") are in none. Phrases are
written with underscores, but each of their words counts alone.

Russian entries are stemmed; where Snowball gives an inflected form another stem, that
form is listed too ("батареи", "остановок"). Kazakh entries are keys: a word is found by
the longest key it starts with, Kazakh letters folded onto Russian ones and a final
к/г/п/б dropped, so verbal nouns lose their -у ("абаттандыр") and some nouns are given
as the forms that carry them ("арықт", "тұраққа"). Russian words are looked up among the
Kazakh keys too, so no key may begin common words of another meaning: not "жер"
(жертва, жерасты), "бас" (бассейн), "өрт" (орталық), "заң" (занят), "салық" (салып),
"тұрақ" (туралы), "қарт" (карта), "көл" (қол), "шаң" (Шаңырақ), "балалар", "тұрғын"
(тұрғындар), "қала", "шағын", "көше", "газ" (газон, газета, газель), "электр"
(электричка) or "сел" (село, сельский). Words of two letters ("су", "үй", "ит", "QR",
"Wi-Fi", "УК") are never matched.
"""

VOCABULARY: dict[str, dict[str, str]] = {
    "ecology": {
        "ru": "экология экологический экологичный эколог воздух смог загрязнение "
        "загрязнять загазованность выброс выхлоп выхлопной экокласс дым гарь копоть "
        "дышать задыхаться уголь угольный котельная ТЭЦ пыль климат шум дерево деревья "
        "тополь саженец посадка насаждения озеленение зелень зеленый газон трава "
        "поливать полива листва сжигание вырубка вырубать вырубили рубка лес лесопарк "
        "природа ледник река речка арык водоем озеро мусор мусорка мусорный мусоровоз "
        "урна бутылка свалка свалок отходы переработка сортировка раздельный пластик "
        "батарейка чистота "
        "контейнер контейнерный бак помойка мусоросборник ТКО ТБО КГМ регоператор "
        "крупногабаритный вонь воняет вонища вонючий зловоние смрад очистные спил опиловка "
        "обрезка кронирование ветка ветки веток сухостой покос борщевик амброзия сжигать жгут "
        "рекультивация кустарник кусты бурьян сорняк пруд клумба",
        "kk": "экология ауа түтін смогт ластан күйе көмір ЖЭО қоршаған ағаш теректер "
        "көшет көгал жасыл газон жапырақ суар шырша табиғат орман өзен тұман арықт "
        "арыққа арығы қоқыс қалдықт қалдығы полигон пластик бөтелке сұрыпта "
        "контейнер бұтақ иіс терегі теректі терекке теректің",
        "en": "ecology environment environmental air smog haze pollution polluted "
        "emission exhaust smoke soot breathe coal boiler CHP dust climate noise tree "
        "trees sapling green greenery lawn logging forest nature glacier river lake "
        "aryk waste garbage trash rubbish litter bottle landfill dump bin bins "
        "recycling recycle plastic "
        "poplar branch branches dumpster stink stench",
    },
    "transport": {
        "ru": "транспорт автобус троллейбус трамвай электробус маршрутка маршруток "
        "маршрутчик маршрут метро LRT БРТ остановка остановок расписание интервал "
        "пересадка пассажир проезд проездной валидатор Онай такси дорога дорожный "
        "трасса шоссе магистраль объездная развязка эстакада тоннель мост перекресток "
        "перекрестке полоса выделенка разметка асфальт яма пробка пробок затор "
        "светофор парковка парковок парковать эвакуатор водитель машина автомобиль "
        "авто велодорожка велодорожек велосипед велосипедист самокат электросамокат "
        "вокзал аэропорт "
        "ямочный выбоина грейдер грейдирование отсыпка щебень щебня грунтовый проезжий "
        "обочина рейс перевозчик кондуктор пазик маршрутный остановочный ПАЗ автобусный "
        "троллейбусный трамвайный пик стоянка стоянок газель",
        "kk": "көлік автобус троллейбус трамвай электробус маршрут метро аялдама бекет "
        "кесте жолаушы валидатор такси машина жол айналма көпір қиылыс жолақ асфальт "
        "шұңқыр кептеліс тығын қозғалыс бағдаршам тұрағы тұраққа тұрақта жүргізуші "
        "велосипед веложол самокат вокзал әуежай",
        "en": "transport transit bus buses trolleybus tram minibus marshrutka route "
        "metro subway BRT LRT timetable interval commute passenger stop fare validator "
        "Onay taxi road highway bypass intersection junction interchange bridge tunnel "
        "lane asphalt pothole traffic jam congestion driver car vehicle bike bicycle "
        "scooter airport",
    },
    "safety": {
        "ru": "безопасность опасно опасный страшно преступность преступник кража "
        "воровство вор грабеж ограбить мошенник нападение нападать хулиган хулиганство "
        "драка пьяный наркотики наркоман закладка полиция полицейский патруль "
        "патрульный участковый камера видеонаблюдение освещение фонарь темно темнота "
        "собака бродячий покусать переход пешеход скорость гонять сбить сбили "
        "авария ДТП ограждение люк гололед землетрясение сейсмостойкость сейсмический "
        "селевой селезащитный оползень паводок лавина ЧС МЧС эвакуация спасатель "
        "пожар пожарный "
        "светильник фонарный неосвещенный прожектор безнадзорный отлов отлова неровность "
        "закладчик распивать гидрант укус угроза травмоопасный ГИБДД шприц",
        "kk": "қауіпсіздік қауіпті қауіп қорқыныш қылмыс ұрлық ұры тонау алаяқ төбелес "
        "бұзақы маскүнем есірткі нашақор тәртіп полиция полицей патруль камера "
        "бейнебақылау шам жарықтандыр жарығы қараңғы иттер қаңғыбас өткел жылдамдық "
        "апат люк көктайғақ тайғақ сілкініс сейсмикалық көшкін тасқын төтенше "
        "құтқарушы "
        # Forms, not the key "сел", which began село, сельский and селедка.
        "селдің селден селге селді селмен селдер қаупі",
        "en": "safety safe unsafe danger dangerous scary crime criminal theft thief "
        "steal stolen robbery rob mugged burglary attack harass fight drunk hooligan "
        "drug addict police cop patrol camera cctv lighting light lamp streetlight "
        "unlit dark dog stray crossing crosswalk speed speeding accident manhole icy "
        "earthquake quake seismic mudflow landslide avalanche emergency evacuation "
        "rescue fire",
    },
    "urban_planning": {
        "ru": "градостроительство урбанист генплан планировка застройка застройщик "
        "застраивать стройка строительство самострой точечный высотка высоток "
        "многоэтажка многоэтажек многоэтажный небоскреб этажность комплекс архитектура "
        "архитектор фасад облик дизайн исторический снос снести реконструкция "
        "инфраструктура благоустройство благоустроенный пространство площадка "
        "площадок сквер бульвар аллея аллеи набережная фонтан лавочка лавочек скамейка "
        "скамеек тротуар пешеходный бордюр плитка брусчатка пустырь предгорье склон "
        "качели карусель горка горок песочница игровой",
        "kk": "құрылыс құрылысшы жоспар көпқабатты қабатты кешен сәулет сәулетші "
        "қасбет ғимарат тарихи реконструкция инфрақұрылым абаттандыр кеңістік алаң "
        "сквер бульвар аллея жағалау фонтан субұрқақ орындықт тротуар жаяу бордюр "
        "жиектас плитка бөктер беткей баурай "
        "әткеншек",
        "en": "planning urban zoning masterplan development developer construction "
        "highrise high-rise tower skyscraper storey density residential architecture "
        "architect facade design redesign historic demolition demolish reconstruction "
        "infrastructure landscaping landscaped space square plaza boulevard alley "
        "embankment fountain bench playground sidewalk pavement paving curb pedestrian "
        "walkable wasteland foothill slope hillside "
        "sandbox",
    },
    "housing_utilities": {
        "ru": "ЖКХ КСК ОСИ управляющая коммунальные коммуналка тариф квитанция Алсеко "
        "счетчик отопление отопительный батарея батареи радиатор теплотрасса теплосеть "
        "теплоноситель горячая_вода вода водопровод водоснабжение водоканал "
        "канализация стояк труба сантехник электричество электроэнергия напряжение "
        "электрик отключение отключать газ лифт подъезд домофон мусоропровод крыша "
        "кровля подвал подвалы протекать затопить затоплен заливать сырость плесень "
        "капремонт аварийный расселение расселить жилье жилищный квартира жилец жильцы "
        "очередник ипотека "
        # Smells are shared with ecology: in a stairwell or from a sewer they are about the
        # building, from a landfill or a factory about the environment. "электр" is the bare
        # Kazakh word, looked up here as it has no Kazakh letter (its key began электричка).
        "управляйка ТСЖ ЖЭК ЖКС МКД ГВС ХВС ЖКУ многоквартирный придомовый общедомовой "
        "дворник уборщица слесарь теплоснабжение тепло котел котла напор опрессовка колонка "
        "скважина колодец колодца электроснабжение электросеть энергосбыт Россети обесточить "
        "подстанция трансформатор перерасчет начисление жилинспекция ГЖИ межпанельный грибок "
        "течь протечка подтекать подтопление ливневка ливневый лампочка лампочек снег "
        "снегоуборка снегоуборочный сугроб наледь сосулька сосулек посыпать противогололедный "
        "дератизация дезинсекция газификация газопровод газовый канализационный котельная "
        "тепловой водопроводный поверка штукатурка потолок потолка фундамент ветхий "
        "переселение квартплата энергоснабжение газоснабжение снегопад снежный лед льда льдом "
        "льду чердак водосток засор септик выгребной управляшка ТСН ЖСК ресурсоснабжающий РСО "
        "электр вонь воняет вонища вонючий зловоние смрад",
        "kk": "ТКШ коммуналдық тариф есептегіш жылу жылыту ыстық суық сумен құбыр "
        "кәріз сантехник кернеу өшір лифт подъезд кіреберіс шатыр жертөле "
        "апатты пәтер баспана тұрғынжай жалдамалы ипотека "
        # Forms, not the keys "газ" and "электр", which began газон, газета, газель,
        # электричка and электробус; the bare words are found among the Russian entries.
        "батарея түбіртек қарды қардан сүңгі мұзды газы газды газға газдың газбен газсыз "
        "газдан газын электрді электрмен электрсіз электрге электрдің электрден құдық "
        "басқарушы МИБ иіс",
        "en": "utilities utility KSK OSI tariff bill meter heating radiator hot_water "
        "water plumbing plumber pipe sewage sewer electricity electrician voltage "
        "power outage gas elevator lift entrance stairwell intercom chute roof ceiling "
        "leak leaking flooded basement damp mould mold condemned housing apartment "
        "flat tenant landlord mortgage "
        "snow icicle icicles janitor caretaker stink stench",
    },
    "economy_jobs": {
        "ru": "экономика экономический рабочий работодатель трудоустройство занятость "
        "безработица безработный вакансия зарплата заработок доход бизнес бизнесмен "
        "предприниматель предпринимательство самозанятый стартап МСБ предприятие налог "
        "кредит кредиты субсидия инвестиции инвестор цена инфляция подорожать аренда "
        "рынок рынке базар ярмарка торговля торговый павильон фермер ремесленник "
        "производство производитель завод промзона экспорт импорт прибыль выручка "
        "туризм турист гостиница "
        "киоск увольнение НТО ларек ларьки",
        "kk": "экономика еңбек жұмыссыз жұмыспен жұмысшы вакансия жалақы айлық табыс "
        "бизнес кәсіпкер кәсіпкерлік кәсіпорын ШОБ салықт салыққа несие субсидия "
        "инвестиция инвестор баға қымбат инфляция жалдау нарық базар жәрмеңке сауда "
        "саудагер фермер өндіріс өндіруші өнеркәсіп зауыт туризм турист",
        "en": "economy economic job jobs employment unemployment unemployed employer "
        "vacancy salary wage business entrepreneur startup SME enterprise tax taxes "
        "loan credit subsidy investment investor price prices inflation rent market "
        "bazaar trade trader vendor commerce production producer factory industry "
        "industrial tourism tourist hotel",
    },
    "education": {
        "ru": "образование обучение учеба школа школьник школьный ученик первоклассник "
        "выпускник класс урок парта учебник экзамен ЕНТ учитель учительница педагог "
        "преподаватель тьютор репетитор гимназия лицей продленка кружок кружки сад "
        "садик детсад ясли воспитатель университет вуз студент стипендия общежитие "
        "колледж "
        "ЕГЭ ОГЭ",
        "kk": "білім оқу оқыту мектеп оқушы сынып сабақ оқулық емтихан ҰБТ мұғалім "
        "ұстаз репетитор гимназия лицей үйірме балабақша тәрбиеші университет ЖОО "
        "студент шәкіртақы жатақхана колледж түлек",
        "en": "education educational learning teaching school schools pupil class "
        "classroom lesson homework textbook curriculum exam UNT teacher tutor tutoring "
        "gymnasium lyceum kindergarten preschool nursery daycare university college "
        "student stipend scholarship dorm dormitory",
    },
    "health": {
        "ru": "здоровье здравоохранение медицина медицинский поликлиника больница "
        "роддом травмпункт диспансер медпункт скорая врач доктор терапевт педиатр "
        "кардиолог невролог гинеколог онколог хирург стоматолог стоматология психолог "
        "медсестра медсестер фельдшер пациент лечение лечиться болезнь больничный "
        "аптека лекарство рецепт инсулин прививка прививок вакцина анализ медосмотр "
        "МРТ ОСМС талон спорт спортивный спортзал спортплощадка стадион футбольный "
        "тренажер бассейн физкультура забег ЗОЖ "
        "вакцинация вакцинироваться ковид коронавирус ПЦР ФАП ЦРБ амбулатория медикаменты "
        "препарат регистратура эндокринолог офтальмолог санаторий медпомощь онкобольной "
        "диализ УЗИ флюорография карантин самоизоляция прививочный антитела госпитализация "
        "медперсонал медик каток катка",
        "kk": "денсаулық медицина емхана аурухана перзентхана травмпункт диспансер "
        "жедел_жәрдем дәрігер терапевт педиатр кардиолог хирург стоматолог тіс "
        "психолог медбике науқас ауру жарақат емдеу емдел дәріхана дәрі екпе вакцина "
        "МӘМС талон спорт стадион бассейн денешынықтыру салауатты",
        "en": "health healthcare medicine medical clinic polyclinic hospital maternity "
        "trauma ambulance paramedic doctor physician pediatrician therapist "
        "cardiologist surgery dentist dental psychologist mental nurse patient "
        "treatment illness disease pharmacy prescription medication insulin vaccine "
        "vaccination MRI checkup insurance sport sports fitness gym stadium pool",
    },
    "culture": {
        "ru": "культура культурный досуг праздник творчество искусство креативный "
        "театр театральный спектакль опера балет филармония цирк эстрада концерт "
        "концертный музыка музыкант песня хор танец танцевальный айтыс домбра артист "
        "музей музея музейный экспонат выставка выставок галерея галереи художник "
        "скульптура граффити стрит-арт арт мозаика кино кинотеатр библиотека книжный "
        "памятник наследие исторический экскурсия фестиваль",
        "kk": "мәдени мереке дәстүр өнер шығармашылық театр спектакль қойылым опера "
        "цирк сахна концерт музыка әнші домбыра айтыс мұражай көрмесі көрмелер галерея "
        "суретші граффити мозаика қолөнер кино кітапхана кітаптар ескерткіш мұра "
        "тарихи экскурсия фестиваль",
        "en": "culture cultural art arts artist theatre theater opera ballet circus "
        "concert music musician choir dance dombra aitys Nauryz museum exhibition "
        "gallery sculpture graffiti mosaic cinema film library monument landmark "
        "heritage historic festival",
    },
    "social": {
        "ru": "социальный соцзащита соцпомощь соцработник соцтакси АСП адресный "
        "пособие льгота льготный пенсионер пенсия пенсионный пожилой престарелый "
        "одинокий ветеран инвалид инвалидность ОВЗ ДЦП колясочник коляска колясок "
        "маломобильный пандус доступный инклюзивный тактильный незрячий слабовидящий "
        "глухой слабослышащий сурдопереводчик аутизм реабилитация многодетный одиночка "
        "сирота детдом опека малоимущий малообеспеченный нуждающийся бедный бедность "
        "уязвимый бездомный ночлежка кризисный волонтер благотворительность "
        "выплата соцфонд СФР ПФР УСЗН маткапитал материнский мобилизованный льготник опекун "
        "путевка единовременный соцконтракт интернат попечительство МСЭ субсидия",
        "kk": "әлеуметтік атаулы жәрдемақы жеңілдік зейнет зейнеткер зейнетақы қарттар "
        "қария ардагер мүгедек арбамен арбасы арбадағы арбаға арбалы пандус қолжетімді "
        "инклюзив зағип ымдау аутизм оңалту көпбалалы жалғызбасты жетім аз_қамтылған "
        "кедей мұқтаж баспанасыз қамқорлық ерікті қайырымдылық",
        "en": "social welfare benefits discount pensioner pension elderly veteran "
        "disabled disability handicapped wheelchair ramp accessible accessibility "
        "barrier inclusive blind deaf autism rehab rehabilitation orphan orphanage "
        "income poverty needy vulnerable homeless charity volunteer",
    },
    "digital": {
        "ru": "цифровой цифровизация электронный egov ЭЦП госуслуги приложение онлайн "
        "сайт портал платформа чат-бот телеграм Каспи смс данные интернет вайфай "
        "провайдер оптоволокно модем мобильный сотовый смартфон смарт умный датчик",
        "kk": "цифрлық цифрландыр электрондық электрон egov ЭЦҚ қосымша онлайн сайт "
        "портал Каспи деректер интернет вайфай провайдер оптика мобильді ұялы смартфон "
        "ақылды датчик",
        "en": "digital digitize digitalization electronic egov e-government app "
        "application software online website portal platform chatbot Kaspi sms data "
        "internet wifi broadband fiber provider mobile cell cellular smart sensor",
    },
    "governance": {
        "ru": "акимат аким акимы власть чиновник госслужащий "
        "госорган депутат маслихат бюджет налогоплательщик отчет подотчетность "
        "прозрачность прозрачный непрозрачный коррупция взятка хищение побор тендер "
        "госзакупки прокуратура бюрократия отписка отиниш петиция слушания выборы "
        "голосование референдум",
        "kk": "әкімдік әкім басқару билік шенеунік депутат мәслихат бюджет есепт есебі "
        "ашықтық жауапкершілік сыбайлас жемқор тендер прокуратура бюрократия өтініш "
        "петиция тыңдау қатысу сайлау дауыс референдум",
        "en": "akimat akim mayor administration government governance authorities "
        "official officials bureaucrat deputy maslikhat council budget taxpayer report "
        "accountability accountable transparency transparent corruption corrupt bribe "
        "tender procurement prosecutor audit bureaucracy otinish petition hearing "
        "hearings participation participatory election vote referendum",
    },
}
