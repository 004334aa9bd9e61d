"""What the demo shop sells: a small, realistic Chinese micro-mall. Prices are in fen.

This is seller content (what a merchant would type into the console), so it is written in
Chinese and is not translated.
"""

from dataclasses import dataclass

SHOP = {
    "slug": "main",
    "name": "私域优选",
    "slogan": "好物不贵，懂你的生活",
    "audience": "25-40 岁、注重品质的城市家庭：宝妈、白领和爱喝茶的长辈",
    "description": (
        "私域优选是一家开在朋友圈里的生活小店。我们只挑自己家也在用的好东西：产地直采的茶叶和零食，"
        "成分干净的护肤个护，耐用的家居日用和安心的母婴用品。\n"
        "每件商品都由店主试用后上架，48 小时内发货，七天无理由退货（食品与定制商品除外）。"
        "加入会员群，复购有积分，老带新有好礼。"
    ),
    "banner_badge": "新人专享 · 满99包邮",
}

OWNER = {"username": "demo", "password": "demo12345", "display_name": "店主小林"}
STAFF = [
    {"username": "demo-ops", "role": "operator", "display_name": "运营小王"},
    {"username": "demo-cs", "role": "service", "display_name": "客服小美"},
    {"username": "demo-finance", "role": "finance", "display_name": "财务老张"},
]
STAFF_PASSWORD = "demo12345"

SHIPPING = [
    {"key": "free", "name": "全国包邮", "base_fee": 0, "free_over": None, "remote_surcharge": 0,
     "remote_provinces": []},
    {"key": "standard", "name": "满99包邮", "base_fee": 800, "free_over": 9900, "remote_surcharge": 0,
     "remote_provinces": [], "is_default": True},
    {"key": "remote", "name": "包邮（偏远地区加收）", "base_fee": 0, "free_over": None, "remote_surcharge": 1500,
     "remote_provinces": ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南"]},
]

# top category → (picture theme, sub-categories)
CATEGORIES = {
    "茶饮冲调": ("tea", ["绿茶", "红茶普洱", "花草茶", "咖啡冲饮"]),
    "休闲零食": ("snack", ["坚果炒货", "肉干肉脯", "糕点饼干"]),
    "美妆护肤": ("beauty", ["面部护肤", "彩妆", "面膜"]),
    "个护清洁": ("care", ["洗发护发", "身体护理", "口腔护理"]),
    "家居日用": ("home", ["纸品湿巾", "厨房用品", "家纺"]),
    "母婴用品": ("baby", ["纸尿裤", "喂养用品", "婴童洗护"]),
}

Q, X, N = "quality_only", "exchange_only", "no_returns"


@dataclass(frozen=True)
class Item:
    name: str
    sub: str
    motif: str
    price: int
    points: tuple[str, ...]
    description: str
    list_price: int | None = None
    cycle: int | None = None
    policy: str = "no_reason_7d"
    specs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    deltas: tuple[tuple[str, int], ...] = ()  # spec value → price difference in fen
    sold_out: tuple[str, ...] = ()  # spec keys without stock; "*" for every SKU
    status: str = "on_sale"
    shipping: str = "standard"
    tag: str = ""
    images: int = 2


PRODUCTS: list[Item] = [
    # 茶饮冲调
    Item("西湖龙井 明前特级绿茶", "绿茶", "cup", 16800,
         ("明前头采，嫩芽鲜爽", "核心产区，杭州西湖", "铁罐密封，锁住清香"),
         "西湖核心产区明前采摘，一芽一叶，传统手工炒制。豆香浓郁，回甘清甜，自饮送礼都合适。",
         list_price=22800, cycle=30, policy=Q, specs=(("规格", ("100g罐装", "250g罐装")),),
         deltas=(("100g罐装", -9000),), tag="热卖", images=3),
    Item("正山小种红茶 礼盒装 200g", "红茶普洱", "box", 12800,
         ("武夷山桐木关原产", "松烟香，桂圆甜", "礼盒包装，送长辈"),
         "传统松烟工艺，汤色红亮，滋味醇厚。冬天来一杯暖胃又暖心。", list_price=15800, cycle=30, policy=Q),
    Item("云南古树普洱熟茶饼 357g", "红茶普洱", "box", 19800, ("百年古树原料", "越陈越香，可收藏"),
         "勐海古树春料，渥堆发酵，汤色红浓，陈香明显。", cycle=60, policy=Q, shipping="free", images=1),
    Item("桂花乌龙冷泡茶 15袋", "花草茶", "pouch", 3990, ("冷水 3 小时即泡即饮", "桂花香，零添加"),
         "乌龙茶与金桂窨制，冷泡热泡都好喝，上班随手一袋。", list_price=4990, cycle=15, tag="新品"),
    Item("平阴重瓣玫瑰花茶 50g", "花草茶", "jar", 2990, ("山东平阴原产", "花型完整，香气足"),
         "低温烘干的重瓣红玫瑰，泡水、做甜点都合适。", cycle=30, policy=Q, images=1),
    Item("冷萃咖啡液 12颗装", "咖啡冲饮", "pack", 5990, ("3 秒速溶，冷热皆宜", "0 蔗糖 0 植脂末"),
         "18 小时低温冷萃，兑水兑奶都行，办公室和露营的好搭子。", list_price=7990, cycle=12,
         specs=(("口味", ("经典美式", "榛果风味", "燕麦拿铁")),), deltas=(("燕麦拿铁", 600),)),
    Item("精品挂耳咖啡 混合装 20包", "咖啡冲饮", "pouch", 4990, ("云南+埃塞双产地拼配", "中度烘焙，坚果可可风味"),
         "新鲜烘焙后 7 天内充氮包装，撕开即冲。", cycle=20, policy=Q),
    # 休闲零食
    Item("每日坚果 混合果仁 30袋", "坚果炒货", "box", 8990, ("6 种坚果果干科学配比", "独立小包，锁鲜不受潮"),
         "腰果、巴旦木、核桃仁、榛子、蔓越莓、蓝莓干，每天一袋刚刚好。", list_price=12900, cycle=30,
         specs=(("规格", ("15袋装", "30袋装")),), deltas=(("15袋装", -4300),), tag="热卖", images=3),
    Item("临安手剥山核桃 250g", "坚果炒货", "pouch", 4580, ("临安原产，个大壳薄", "椒盐奶香，一捏就开"),
         "当季新果，低温慢炒，越吃越香。", cycle=20, policy=Q, sold_out=("*",)),
    Item("奶油夏威夷果 500g", "坚果炒货", "pouch", 3980, ("开口设计，附开果器", "奶香浓郁，果仁饱满"),
         "澳洲进口原料，独立小包装，追剧必备。", list_price=4990, cycle=20, policy=Q),
    Item("内蒙古风干手撕牛肉干", "肉干肉脯", "pouch", 6800, ("草原黄牛后腿肉", "风干 72 小时，越嚼越香"),
         "传统风干工艺，纤维分明，高蛋白低脂肪，健身和出游都合适。", cycle=30, policy=Q,
         specs=(("口味", ("原味", "香辣", "孜然")), ("规格", ("250g", "500g"))), deltas=(("500g", 5600),),
         sold_out=("孜然/500g",), tag="限量"),
    Item("靖江蜜汁猪肉脯 200g", "肉干肉脯", "pouch", 2990, ("靖江老字号工艺", "薄脆香甜，不塞牙"),
         "精选猪后腿肉，炭火烘烤，蜜汁甜而不腻。", policy=Q, images=1),
    Item("手工流心蛋黄酥 6枚礼盒", "糕点饼干", "box", 3680, ("当天现烤，冷链发货", "咸蛋黄+红豆沙"),
         "层层起酥，蛋黄流心，保质期短，收到请尽快享用。", cycle=10, policy=Q, sold_out=("*",)),
    Item("无蔗糖全麦苏打饼干 1kg", "糕点饼干", "pack", 2590, ("全麦粉含量 ≥50%", "0 蔗糖，控糖也能吃"),
         "酥脆微咸，早餐代餐、办公室加餐都方便。", list_price=3290, cycle=20, policy=Q),
    Item("冻干草莓脆 新品试吃装", "糕点饼干", "pouch", 1990, ("整颗草莓冻干", "酸甜酥脆"),
         "新品打样中，暂未上架。", policy=Q, status="draft", images=1),
    # 美妆护肤
    Item("玻尿酸保湿精华液 30ml", "面部护肤", "bottle", 19900, ("三重玻尿酸，层层补水", "敏感肌可用，无酒精香精"),
         "小分子渗透、大分子锁水，早晚各 2-3 滴，干燥季节的救星。", list_price=26900, cycle=60,
         shipping="free", tag="热卖", images=3),
    Item("氨基酸温和洁面乳 120g", "面部护肤", "bottle", 6900, ("氨基酸表活，洗后不紧绷", "绵密泡沫，男女通用"),
         "弱酸性配方，温和清洁不伤屏障，早晚都能用。", cycle=45),
    Item("烟酰胺亮肤面霜 50g", "面部护肤", "jar", 15900, ("5% 烟酰胺，提亮肤色", "质地清爽，好吸收"),
         "添加神经酰胺修护屏障，改善暗沉，28 天看得见。", list_price=19900, cycle=60, shipping="free"),
    Item("丝绒哑光口红", "彩妆", "lipstick", 12900, ("丝绒质地，不拔干", "持妆 8 小时"),
         "显色度高，薄涂日常、厚涂气场全开。", list_price=15900,
         specs=(("色号", ("01 正红", "02 豆沙", "03 枫叶", "04 奶茶")),), sold_out=("03 枫叶",), tag="热卖"),
    Item("自然持妆气垫BB霜", "彩妆", "jar", 16800, ("轻薄服帖，遮瑕自然", "SPF30 日常防晒"),
         "含替换芯，补妆方便，油皮混皮都适合。", specs=(("色号", ("象牙白", "自然色")),)),
    Item("补水修护面膜 10片装", "面膜", "pack", 9900, ("积雪草+B5 修护", "天丝膜布，服帖透气"),
         "晒后、熬夜后急救，一片精华液相当于半瓶水。", list_price=12900, cycle=20),
    Item("定制刻字口红礼盒", "彩妆", "box", 26800, ("免费激光刻字", "含礼袋和手写贺卡"),
         "按您的要求刻字定制，制作后不支持退换，请仔细核对刻字内容。", policy=N, shipping="free",
         tag="定制"),
    # 个护清洁
    Item("无硅油氨基酸洗发水 500ml", "洗发护发", "bottle", 5900, ("无硅油，头发蓬松不扁塌", "氨基酸温和清洁"),
         "添加茶树精油，控油去屑，洗完一整天清爽。", list_price=7900, cycle=45,
         specs=(("功效", ("控油蓬松", "滋润修护")),), tag="热卖"),
    Item("免洗护发精油 100ml", "洗发护发", "bottle", 7900, ("摩洛哥坚果油", "抚平毛躁，不油腻"),
         "吹发前抹一点，顺滑有光泽，淡淡木质香。", cycle=60, images=1),
    Item("香氛沐浴露 1L 大瓶", "身体护理", "bottle", 4990, ("留香 6 小时", "弱酸性，全家可用"),
         "法国香精调香，泡沫丰富，洗后不假滑。", cycle=40,
         specs=(("香型", ("白茶", "樱花", "海盐")),)),
    Item("烟酰胺身体乳 400ml", "身体护理", "jar", 6990, ("烟酰胺+果酸，改善鸡皮", "秋冬不干痒"),
         "清爽质地，一抹化水，洗澡后全身涂抹。", cycle=45),
    Item("声波电动牙刷", "口腔护理", "box", 19900, ("每分钟 36000 次声波振动", "续航 60 天，磁吸充电"),
         "五档模式，智能 2 分钟计时，送 2 个替换刷头。", list_price=29900, shipping="free",
         specs=(("颜色", ("星空黑", "珍珠白", "樱花粉")),), tag="包邮", images=3),
    Item("益生菌美白牙膏 3支装", "口腔护理", "pack", 3990, ("益生菌呵护口腔", "清新薄荷，持久清爽"),
         "低磨损配方，每天两次，亮白看得见。", cycle=60),
    # 家居日用
    Item("原木抽纸 3层120抽 24包", "纸品湿巾", "pack", 4990, ("原生木浆，无荧光剂", "湿水不易破"),
         "一箱用两三个月，大件包邮到家。", list_price=5990, cycle=30, shipping="remote"),
    Item("加厚洁肤湿巾 80抽×6包", "纸品湿巾", "pack", 3290, ("EDI 纯水，无酒精", "加厚珍珠纹"),
         "擦手擦脸都温和，带盖设计不易干。", cycle=20),
    Item("麦饭石不粘炒锅 32cm", "厨房用品", "box", 18900, ("少油不粘，好清洗", "电磁炉燃气灶通用"),
         "加厚复底，受热均匀，送木铲和锅盖。", list_price=25900, shipping="remote"),
    Item("厨房多用途清洁剂 500ml×2", "厨房用品", "bottle", 2990, ("一喷一擦，油污溶解", "食品级原料"),
         "灶台、油烟机、瓷砖都能用，淡淡柠檬香。", cycle=30, images=1),
    Item("A类纯棉毛巾", "家纺", "towels", 3990, ("新疆长绒棉，A 类婴幼儿标准", "柔软吸水，不掉毛"),
         "三条装，一家人分色使用更卫生。", specs=(("颜色", ("燕麦", "雾蓝", "樱粉")), ("规格", ("毛巾3条", "浴巾1条"))),
         deltas=(("浴巾1条", 4000),), tag="热卖", images=3),
    Item("全棉四件套", "家纺", "towels", 29900, ("100% 新疆棉，60 支", "亲肤透气，越洗越软"),
         "活性印染不褪色，含被套、床单和两只枕套。", list_price=39900, shipping="remote",
         specs=(("颜色", ("奶白", "灰蓝")), ("尺寸", ("1.5m床", "1.8m床"))), deltas=(("1.8m床", 3000),)),
    Item("天然草编凉席 1.8m", "家纺", "towels", 15900, ("手工编织，透气凉爽",),
         "夏季专供，换季已下架。", status="off_shelf", shipping="remote", images=1),
    # 母婴用品
    Item("超薄透气纸尿裤", "纸尿裤", "pack", 12900, ("0.1cm 超薄芯体", "3D 防漏立体护围", "弱酸亲肤表层"),
         "整夜干爽不闷热，尿显线提醒更换。", list_price=15900, cycle=20,
         specs=(("尺码", ("S 84片", "M 68片", "L 56片", "XL 48片")),), deltas=(("XL 48片", 1000),),
         tag="热卖", images=3),
    Item("成长拉拉裤", "纸尿裤", "pack", 11900, ("像内裤一样穿脱", "活动不起坨"),
         "适合学步期宝宝，侧边可撕，换起来很方便。", cycle=20,
         specs=(("尺码", ("L 48片", "XL 42片", "XXL 36片")),), sold_out=("XXL 36片",)),
    Item("宽口径玻璃奶瓶 240ml", "喂养用品", "bottle", 8900, ("高硼硅玻璃，耐冷热", "防胀气奶嘴"),
         "宽口径好清洗，配硅胶防摔套。", specs=(("颜色", ("薄荷绿", "奶油黄")),)),
    Item("高铁婴儿营养米粉 450g", "喂养用品", "jar", 6800, ("添加铁锌钙", "6 个月以上宝宝适用"),
         "细腻易冲调，不结块，宝宝第一口辅食。", cycle=25, policy=Q),
    Item("婴儿洗发沐浴二合一 500ml", "婴童洗护", "bottle", 6900, ("无泪配方，不刺激眼睛", "植物来源表活"),
         "温和洗护，洗后不紧绷，淡淡奶香。", cycle=45, policy=X),
    Item("婴儿保湿润肤霜 新配方", "婴童洗护", "jar", 5900, ("燕麦+神经酰胺", "干痒小红脸救星"),
         "新配方备案中，暂未上架。", cycle=45, status="draft", images=1),
]

FEATURED = [
    "西湖龙井 明前特级绿茶", "每日坚果 混合果仁 30袋", "玻尿酸保湿精华液 30ml", "丝绒哑光口红",
    "无硅油氨基酸洗发水 500ml", "超薄透气纸尿裤", "A类纯棉毛巾", "声波电动牙刷",
]

SHOPPERS = [
    {"phone": "13800138001", "nickname": "茶友阿明", "recipient": "李明", "province": "浙江省", "city": "杭州市",
     "district": "西湖区", "detail": "文三路 398 号 2 幢 501 室"},
    {"phone": "13900139002", "nickname": "小鹿妈妈", "recipient": "王芳", "province": "上海市", "city": "上海市",
     "district": "浦东新区", "detail": "张杨路 1500 弄 6 号 1202 室"},
    {"phone": "13700137003", "nickname": "周末露营", "recipient": "陈浩", "province": "广东省", "city": "深圳市",
     "district": "南山区", "detail": "科技园南区 高新南七道 18 号"},
    {"phone": "13600136004", "nickname": "天山雪莲", "recipient": "阿依古丽", "province": "新疆维吾尔自治区",
     "city": "乌鲁木齐市", "district": "天山区", "detail": "解放北路 88 号 3 单元 402 室"},
    {"phone": "13500135005", "nickname": "", "recipient": "赵磊", "province": "四川省", "city": "成都市",
     "district": "武侯区", "detail": "人民南路四段 27 号 8 栋"},
]
